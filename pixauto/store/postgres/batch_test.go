package postgres

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
)

func raceCharge(consentID, id, reference string) (*pixauto.ChargeRecord, *pixauto.AttemptRecord) {
	c := &pixauto.ChargeRecord{ID: id, ReceiverID: "r1", ConsentID: consentID, HolderID: "h1", Reference: reference, Status: pixauto.ChargePlanned}
	a := &pixauto.AttemptRecord{ID: id + "-0", ChargeID: id, ConsentID: consentID, EndToEndID: "e-" + id, IdempotencyKey: "i-" + id}
	return c, a
}

// insertRace stores a charge as a concurrent writer would.
func insertRace(t *testing.T, s *Store, consentID, id, reference string) {
	t.Helper()
	c, a := raceCharge(consentID, id, reference)
	require.NoError(t, s.InsertCharge(t.Context(), c, a))
}

func racePlan(consentID, id, reference string) pixauto.ChargePlan {
	c, a := raceCharge(consentID, id, reference)
	return pixauto.ChargePlan{Charge: c, First: a}
}

// storedChargeIDs returns the IDs of every stored charge, each checked to have
// exactly its first attempt.
func storedChargeIDs(t *testing.T, s *Store) []string {
	t.Helper()
	var ids []string
	for c, err := range s.ListCharges(t.Context(), pixauto.ChargeFilter{}) {
		require.NoError(t, err)
		as, err := s.ListAttempts(t.Context(), c.ID)
		require.NoError(t, err)
		require.Len(t, as, 1, c.ID)
		ids = append(ids, c.ID)
	}
	return ids
}

// setupRace stores consents k1 and k2 and a charge of k1 for cycle
// 2025-08-01, so that a batch whose first plan bills that cycle again
// takes the checked path.
func setupRace(t *testing.T) *Store {
	t.Helper()
	s := openTest(t)
	ctx := t.Context()
	for _, id := range []string{"k1", "k2"} {
		require.NoError(t, s.InsertConsent(ctx, &pixauto.ConsentRecord{ID: id, ReceiverID: "r1", HolderID: "h1"}))
	}
	insertRace(t, s, "k1", "held", "2025-08-01")
	return s
}

// A writer that commits a conflicting charge between the check and the
// insert makes the transaction run again: the plan it took is then
// skipped, and the others are stored.
func TestInsertChargesLosesRace(t *testing.T) {
	t.Parallel()
	s := setupRace(t)
	calls := 0
	s.afterCheck = func() {
		calls++
		if calls == 1 {
			insertRace(t, s, "k2", "racer", "2025-08-01")
		}
	}
	plans := []pixauto.ChargePlan{
		racePlan("k1", "again", "2025-08-01"), // stored already: the checked path
		racePlan("k2", "raced", "2025-08-01"), // taken by the racer after the check
		racePlan("k1", "next", "2025-09-01"),
	}
	skipped, err := s.InsertCharges(t.Context(), plans)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1}, skipped)
	require.Equal(t, 2, calls, "the transaction ran twice")
	require.Equal(t, []string{"held", "next", "racer"}, storedChargeIDs(t, s))
}

// A batch that loses every race gives up after maxBatchTries with
// ErrConflict, having stored nothing.
func TestInsertChargesLosesEveryRace(t *testing.T) {
	t.Parallel()
	s := setupRace(t)
	plans := []pixauto.ChargePlan{racePlan("k1", "again", "2025-08-01")}
	for i := range maxBatchTries {
		plans = append(plans, racePlan("k2", fmt.Sprintf("p%d", i), fmt.Sprintf("2025-%02d-01", i+1)))
	}
	calls := 0
	want := []string{"held"}
	s.afterCheck = func() {
		id := fmt.Sprintf("racer%d", calls)
		insertRace(t, s, "k2", id, fmt.Sprintf("2025-%02d-01", calls+1))
		want = append(want, id)
		calls++
	}
	skipped, err := s.InsertCharges(t.Context(), plans)
	require.ErrorIs(t, err, pixauto.ErrConflict)
	require.Nil(t, skipped)
	require.Equal(t, maxBatchTries, calls)
	require.Equal(t, want, storedChargeIDs(t, s), "nothing of the batch is stored")
}
