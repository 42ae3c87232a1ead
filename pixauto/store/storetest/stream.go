package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
)

// leakRounds is how many loops the stream tests abandon: more than any
// sensible connection pool, so that a leaked cursor per loop would exhaust
// it.
const leakRounds = 64

// deadline bounds the tests that would hang if a cursor leaked or a loop
// body could not write; a passing run never waits for it.
const deadline = 30 * time.Second

func exerciseStreams(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	setupStream := func(t *testing.T) *bundle {
		t.Helper()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		for i := range 5 {
			b.insertConsent(t, fmt.Sprintf("k%d", i+2))
			b.insertCharge(t, "k1", fmt.Sprintf("ch%d", i), fmt.Sprintf("ref%d", i))
		}
		return b
	}

	t.Run("StopEarly", func(t *testing.T) {
		t.Parallel()
		b := setupStream(t)
		// A leaked cursor per loop would exhaust the connections: a later
		// call would then wait for the deadline and fail.
		ctx, cancel := context.WithTimeout(b.ctx, deadline)
		defer cancel()
		b.ctx = ctx
		for range leakRounds {
			for c, err := range b.store.ListCharges(b.ctx, pixauto.ChargeFilter{}) {
				require.NoError(t, err)
				require.Equal(t, "ch0", c.ID)
				break
			}
			for c, err := range b.store.ListConsents(b.ctx, pixauto.ConsentFilter{}) {
				require.NoError(t, err)
				require.Equal(t, "k1", c.ID)
				break
			}
		}
		require.Len(t, chargeIDs(t, b, pixauto.ChargeFilter{}), 5)
		require.Len(t, consentIDs(t, b, pixauto.ConsentFilter{}), 6)
		c, _ := b.insertCharge(t, "k2", "late", "zero")
		c.Status = pixauto.ChargeScheduled
		require.NoError(t, b.store.UpdateCharge(ctx, c))
	})

	t.Run("WriteInLoop", func(t *testing.T) {
		t.Parallel()
		b := setupStream(t)
		ctx, cancel := context.WithTimeout(b.ctx, deadline)
		defer cancel()
		n := 0
		for c, err := range b.store.ListCharges(ctx, pixauto.ChargeFilter{ConsentID: "k1"}) {
			require.NoError(t, err)
			got, err := b.store.GetCharge(ctx, c.ID) // a second reader
			require.NoError(t, err)
			require.Equal(t, c, got)
			c.Status = pixauto.ChargeScheduled
			require.NoError(t, b.store.UpdateCharge(ctx, c), "the loop body must be able to write")
			require.NoError(t, b.store.InsertAttempt(ctx, newAttempt(c, c.ID+"-1", 1)))
			n++
		}
		require.Equal(t, 5, n)
		for c, err := range b.store.ListCharges(ctx, pixauto.ChargeFilter{}) {
			require.NoError(t, err)
			require.Equal(t, pixauto.ChargeScheduled, c.Status)
		}
		for c, err := range b.store.ListConsents(ctx, pixauto.ConsentFilter{}) {
			require.NoError(t, err)
			c.NextCheckAt = t0
			require.NoError(t, b.store.UpdateConsent(ctx, c), "the loop body must be able to write")
		}
	})

	t.Run("Rerun", func(t *testing.T) {
		t.Parallel()
		b := setupStream(t)
		seq := b.store.ListCharges(b.ctx, pixauto.ChargeFilter{Limit: 3})
		first := ids(t, seq, func(c *pixauto.ChargeRecord) string { return c.ID })
		second := ids(t, seq, func(c *pixauto.ChargeRecord) string { return c.ID })
		require.Equal(t, []string{"ch0", "ch1", "ch2"}, first)
		require.Equal(t, first, second, "ranging twice runs the query twice")
	})

	t.Run("CancelMidway", func(t *testing.T) {
		t.Parallel()
		b := setupStream(t)
		for name, list := range map[string]func(ctx context.Context) func(func(any, error) bool){
			"Charges": func(ctx context.Context) func(func(any, error) bool) {
				return adapt(b.store.ListCharges(ctx, pixauto.ChargeFilter{}))
			},
			"Consents": func(ctx context.Context) func(func(any, error) bool) {
				return adapt(b.store.ListConsents(ctx, pixauto.ConsentFilter{}))
			},
		} {
			ctx, cancel := context.WithCancel(b.ctx)
			records, errs := 0, 0
			for r, err := range list(ctx) {
				if err != nil {
					require.ErrorIs(t, err, context.Canceled, name)
					errs++
					continue
				}
				require.NotNil(t, r, name)
				records++
				cancel()
			}
			cancel()
			require.Equal(t, 1, records, "%s: no record after the context is cancelled", name)
			require.Equal(t, 1, errs, "%s: the loop ends with the context's error", name)
		}
	})
}

// adapt erases a list's record type.
func adapt[R any](seq func(func(R, error) bool)) func(func(any, error) bool) {
	return func(yield func(any, error) bool) {
		for r, err := range seq {
			if !yield(r, err) {
				return
			}
		}
	}
}
