package storetest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
)

// Exercise runs the conformance suite. newStore is called once per subtest
// and must return an empty store of its own (a new file, a new schema) and
// arrange, with t.Cleanup, to close and remove it. Every subtest runs in
// parallel.
func Exercise(t *testing.T, newStore func(t *testing.T) pixauto.Store) {
	t.Helper()
	for name, run := range map[string]func(*testing.T, func(*testing.T) pixauto.Store){
		"Consent":       exerciseConsents,
		"Authorization": exerciseAuthorizations,
		"ExpiredAuth":   exerciseExpiredAuthorizations,
		"Secret":        exerciseSecrets,
		"Charge":        exerciseCharges,
		"InsertCharges": exerciseInsertCharges,
		"Attempt":       exerciseAttempts,
		"Stream":        exerciseStreams,
		"Context":       exerciseContext,
		"Time":          exerciseTime,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newStore)
		})
	}
}

// race runs fn(0) … fn(n-1) in goroutines released at once and returns
// their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// requireOneWinner checks that exactly one error is nil and that every other
// one is loser.
func requireOneWinner(t *testing.T, errs []error, loser error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		require.ErrorIs(t, err, loser)
	}
	require.Equal(t, 1, wins, "exactly one of %d concurrent calls must succeed", len(errs))
}

// racers is how many goroutines the concurrency tests start.
const racers = 8
