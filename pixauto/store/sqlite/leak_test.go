package sqlite

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
)

// TestStreamLeavesNoGoroutine is not parallel on purpose: it counts the
// process's goroutines, and sequential tests run before any parallel one
// starts. Each abandoned loop would leak a cursor and database/sql's
// goroutine watching its context.
func TestStreamLeavesNoGoroutine(t *testing.T) {
	s := openTest(t)
	// A leaked connection per loop would exhaust the pool: the loops would
	// then fail at the deadline instead of hanging.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.InsertConsent(ctx, &pixauto.ConsentRecord{ID: "k1"}))
	for i := range 3 {
		id := fmt.Sprintf("ch%d", i)
		require.NoError(t, s.InsertCharge(ctx, &pixauto.ChargeRecord{ID: id, ConsentID: "k1", Reference: id},
			&pixauto.AttemptRecord{ID: id, ChargeID: id, ConsentID: "k1", EndToEndID: id, IdempotencyKey: id}))
	}
	abandon := func() {
		for _, err := range s.ListCharges(ctx, pixauto.ChargeFilter{}) {
			require.NoError(t, err)
			break
		}
		for _, err := range s.ListConsents(ctx, pixauto.ConsentFilter{}) {
			require.NoError(t, err)
			break
		}
	}
	abandon() // open the pools' connections first
	before := runtime.NumGoroutine()
	const rounds = 50
	for range rounds {
		abandon()
	}
	require.Equal(t, 0, s.read.Stats().InUse)
	after := settledGoroutines(before)
	require.LessOrEqual(t, after, before+2, "%d goroutines before %d abandoned loops, %d after", before, 2*rounds, after)
}

// settledGoroutines returns the goroutine count once it is at most want,
// or after a bounded number of yields: goroutines told to stop may need a
// turn of the scheduler to exit.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 10_000 && n > want; i++ {
		runtime.Gosched()
		n = runtime.NumGoroutine()
	}
	return n
}
