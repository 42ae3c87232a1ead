package storetest

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
)

// CheckAbandonedStreams shows that a loop over ListCharges or ListConsents
// left after its first row leaks nothing: it stores a consent and three
// charges in s, abandons a hundred loops, and fails t if the goroutine count
// grew or inUse — the store's count of connections in use — is not zero.
// It counts the process's goroutines, so call it from a test that is not
// parallel (sequential tests run before any parallel one starts).
func CheckAbandonedStreams(t *testing.T, s pixauto.Store, inUse func() int) {
	t.Helper()
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
	require.Equal(t, 0, inUse(), "connections still in use")
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
