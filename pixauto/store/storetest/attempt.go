package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
)

func exerciseAttempts(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	// setupCharge stores consent k1 and charge ch1 with attempt ch1-0.
	setupCharge := func(t *testing.T) (*bundle, *pixauto.ChargeRecord, *pixauto.AttemptRecord) {
		t.Helper()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		c, a := b.insertCharge(t, "k1", "ch1", "2025-08-01")
		return b, c, a
	}

	t.Run("InsertGet", func(t *testing.T) {
		t.Parallel()
		b, c, _ := setupCharge(t)
		a := newAttempt(c, "ch1-1", 1)
		a.Kind = payments.KindIntraday
		a.State = pixauto.AttemptSubmitted
		a.PaymentID = "urn:bank:payment-1"
		a.Status = payments.StatusRJCT
		a.RejectionCode = payments.RejectionSaldoInsuficiente
		a.NextCheckAt = t0.Add(30 * time.Minute)
		require.NoError(t, b.store.InsertAttempt(b.ctx, a))
		got, err := b.store.GetAttempt(b.ctx, "ch1-1")
		require.NoError(t, err)
		require.Equal(t, a, got)
	})

	t.Run("InsertEmptyRequest", func(t *testing.T) {
		t.Parallel()
		b, c, _ := setupCharge(t)
		a := newAttempt(c, "ch1-1", 1)
		a.Request = []byte{}
		require.NoError(t, b.store.InsertAttempt(b.ctx, a))
		got, err := b.store.GetAttempt(b.ctx, "ch1-1")
		require.NoError(t, err)
		require.Empty(t, got.Request)
	})

	t.Run("InsertConflicts", func(t *testing.T) {
		t.Parallel()
		b, c, first := setupCharge(t)
		_, other := b.insertCharge(t, "k1", "ch2", "2025-09-01")
		for name, mutate := range map[string]func(a *pixauto.AttemptRecord){
			"ID":                  func(a *pixauto.AttemptRecord) { a.ID = other.ID },
			"EndToEndID":          func(a *pixauto.AttemptRecord) { a.EndToEndID = first.EndToEndID },
			"EndToEndIDElsewhere": func(a *pixauto.AttemptRecord) { a.EndToEndID = other.EndToEndID },
			"IdempotencyKey":      func(a *pixauto.AttemptRecord) { a.IdempotencyKey = other.IdempotencyKey },
			"Seq":                 func(a *pixauto.AttemptRecord) { a.Seq = 0 },
		} {
			a := newAttempt(c, "ch1-1", 1)
			mutate(a)
			require.ErrorIs(t, b.store.InsertAttempt(b.ctx, a), pixauto.ErrConflict, name)
		}
		as, err := b.store.ListAttempts(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, []*pixauto.AttemptRecord{first}, as)
		require.NoError(t, b.store.InsertAttempt(b.ctx, newAttempt(c, "ch1-1", 1)))
	})

	t.Run("InsertSeqConcurrent", func(t *testing.T) {
		t.Parallel()
		b, c, _ := setupCharge(t)
		errs := race(racers, func(i int) error {
			return b.store.InsertAttempt(b.ctx, newAttempt(c, "retry-"+string(rune('a'+i)), 1))
		})
		requireOneWinner(t, errs, pixauto.ErrConflict)
	})

	t.Run("InsertUnknownCharge", func(t *testing.T) {
		t.Parallel()
		b, _, _ := setupCharge(t)
		a := newAttempt(newCharge("k1", "missing", "zero"), "at1", 1)
		require.ErrorIs(t, b.store.InsertAttempt(b.ctx, a), pixauto.ErrNotFound)
		_, err := b.store.GetAttempt(b.ctx, "at1")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		_, err := b.store.GetAttempt(b.ctx, "missing")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b, _, a := setupCharge(t)
		c2, _ := b.insertCharge(t, "k1", "ch2", "2025-09-01")
		a.ChargeID = c2.ID
		a.Seq = 5
		a.Kind = payments.KindIntraday
		a.EndToEndID = "E-new"
		a.IdempotencyKey = "idem-new"
		a.Date = consent.MustDate("2025-12-31")
		a.State = pixauto.AttemptSubmitted
		a.SubmitAt = t0.Add(-time.Hour)
		a.PaymentID = "pay-1"
		a.Status = payments.StatusACSC
		a.RejectionCode = payments.RejectionNaoInformado
		a.Request = []byte(`{"new":true}`)
		a.NextCheckAt = t0.Add(time.Hour)
		a.CreatedAt = t0.Add(-time.Second)
		a.UpdatedAt = t0.Add(time.Second)
		require.NoError(t, b.store.UpdateAttempt(b.ctx, a))
		require.EqualValues(t, 2, a.Version)
		got, err := b.store.GetAttempt(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)

		a.Date, a.SubmitAt, a.NextCheckAt, a.CreatedAt, a.UpdatedAt = consent.Date{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
		a.PaymentID, a.Status, a.RejectionCode, a.Request = "", "", "", nil
		require.NoError(t, b.store.UpdateAttempt(b.ctx, a))
		require.EqualValues(t, 3, a.Version)
		got, err = b.store.GetAttempt(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)
	})

	t.Run("UpdateStale", func(t *testing.T) {
		t.Parallel()
		b, _, a := setupCharge(t)
		stale := *a
		a.State = pixauto.AttemptSending
		require.NoError(t, b.store.UpdateAttempt(b.ctx, a))
		stale.State = pixauto.AttemptRefused
		require.ErrorIs(t, b.store.UpdateAttempt(b.ctx, &stale), pixauto.ErrConflict)
		require.EqualValues(t, 1, stale.Version)
		got, err := b.store.GetAttempt(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)
	})

	t.Run("UpdateNotFound", func(t *testing.T) {
		t.Parallel()
		b, c, _ := setupCharge(t)
		require.ErrorIs(t, b.store.UpdateAttempt(b.ctx, newAttempt(c, "missing", 3)), pixauto.ErrNotFound)
	})

	t.Run("UpdateConflicts", func(t *testing.T) {
		t.Parallel()
		b, c, first := setupCharge(t)
		first.PaymentID = "pay-1"
		require.NoError(t, b.store.UpdateAttempt(b.ctx, first))
		retry := newAttempt(c, "ch1-1", 1)
		require.NoError(t, b.store.InsertAttempt(b.ctx, retry))
		for name, mutate := range map[string]func(a *pixauto.AttemptRecord){
			"PaymentID":      func(a *pixauto.AttemptRecord) { a.PaymentID = "pay-1" },
			"EndToEndID":     func(a *pixauto.AttemptRecord) { a.EndToEndID = first.EndToEndID },
			"IdempotencyKey": func(a *pixauto.AttemptRecord) { a.IdempotencyKey = first.IdempotencyKey },
			"Seq":            func(a *pixauto.AttemptRecord) { a.Seq = 0 },
		} {
			a := *retry
			mutate(&a)
			require.ErrorIs(t, b.store.UpdateAttempt(b.ctx, &a), pixauto.ErrConflict, name)
			require.EqualValues(t, 1, a.Version)
		}
	})

	t.Run("UpdateConcurrent", func(t *testing.T) {
		t.Parallel()
		b, _, _ := setupCharge(t)
		for round := range 3 {
			read, err := b.store.GetAttempt(b.ctx, "ch1-0")
			require.NoError(t, err)
			errs := race(racers, func(int) error {
				a := *read
				a.State = pixauto.AttemptSending
				return b.store.UpdateAttempt(b.ctx, &a)
			})
			requireOneWinner(t, errs, pixauto.ErrConflict)
			got, err := b.store.GetAttempt(b.ctx, "ch1-0")
			require.NoError(t, err)
			require.EqualValues(t, 2+round, got.Version)
		}
	})

	t.Run("ByPaymentID", func(t *testing.T) {
		t.Parallel()
		b, c, first := setupCharge(t)
		require.NoError(t, b.store.InsertAttempt(b.ctx, newAttempt(c, "ch1-1", 1)))
		first.PaymentID = "pay-1"
		require.NoError(t, b.store.UpdateAttempt(b.ctx, first))

		got, err := b.store.AttemptByPaymentID(b.ctx, "pay-1")
		require.NoError(t, err)
		require.Equal(t, first, got)
		_, err = b.store.AttemptByPaymentID(b.ctx, "pay-2")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
		_, err = b.store.AttemptByPaymentID(b.ctx, "")
		require.ErrorIs(t, err, pixauto.ErrNotFound, "attempts without a payment id are not found by it")
	})

	t.Run("ListAttempts", func(t *testing.T) {
		t.Parallel()
		b, c, first := setupCharge(t)
		_, other := b.insertCharge(t, "k1", "ch2", "2025-09-01")
		third := newAttempt(c, "x-third", 2)
		second := newAttempt(c, "z-second", 1)
		require.NoError(t, b.store.InsertAttempt(b.ctx, third))
		require.NoError(t, b.store.InsertAttempt(b.ctx, second))

		got, err := b.store.ListAttempts(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, []*pixauto.AttemptRecord{first, second, third}, got)
		got, err = b.store.ListAttempts(b.ctx, "ch2")
		require.NoError(t, err)
		require.Equal(t, []*pixauto.AttemptRecord{other}, got)
		got, err = b.store.ListAttempts(b.ctx, "missing")
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("Due", func(t *testing.T) { t.Parallel(); exerciseDueAttempts(t, newStore) })
}

func exerciseDueAttempts(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	setupDue := func(t *testing.T) *bundle {
		t.Helper()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		c, first := b.insertCharge(t, "k1", "ch1", "2025-08-01")
		// first: PLANNED, SubmitAt t0, no check.
		for _, a := range []*pixauto.AttemptRecord{
			{ID: "p-late", Seq: 1, State: pixauto.AttemptPlanned, SubmitAt: t0.Add(time.Hour)},
			{ID: "s-early", Seq: 2, State: pixauto.AttemptSending, SubmitAt: t0.Add(-time.Hour)},
			{ID: "a-tie", Seq: 3, State: pixauto.AttemptPlanned, SubmitAt: t0},
			{ID: "sub", Seq: 4, State: pixauto.AttemptSubmitted, SubmitAt: t0.Add(-2 * time.Hour), NextCheckAt: t0},
			{ID: "sub-later", Seq: 5, State: pixauto.AttemptSubmitted, SubmitAt: t0.Add(-3 * time.Hour), NextCheckAt: t0.Add(time.Microsecond)},
			{ID: "nosubmit", Seq: 6, State: pixauto.AttemptSubmitted, NextCheckAt: t0.Add(-time.Hour)},
		} {
			a.ChargeID, a.ConsentID = c.ID, c.ConsentID
			a.EndToEndID, a.IdempotencyKey = "e-"+a.ID, "i-"+a.ID
			require.NoError(t, b.store.InsertAttempt(b.ctx, a))
		}
		require.Equal(t, "ch1-0", first.ID)
		return b
	}

	pending := []pixauto.AttemptState{pixauto.AttemptPlanned, pixauto.AttemptSending}
	for name, tc := range map[string]struct {
		f    pixauto.AttemptFilter
		want []string
	}{
		"All":            {pixauto.AttemptFilter{}, []string{"sub-later", "sub", "s-early", "a-tie", "ch1-0", "p-late", "nosubmit"}},
		"States":         {pixauto.AttemptFilter{States: pending}, []string{"s-early", "a-tie", "ch1-0", "p-late"}},
		"SubmitBefore":   {pixauto.AttemptFilter{States: pending, SubmitBefore: t0}, []string{"s-early", "a-tie", "ch1-0"}}, // inclusive
		"CheckDueBefore": {pixauto.AttemptFilter{CheckDueBefore: t0}, []string{"sub", "nosubmit"}},                          // inclusive; unset excluded
		"Limit":          {pixauto.AttemptFilter{States: pending, Limit: 2}, []string{"s-early", "a-tie"}},
		"Combined":       {pixauto.AttemptFilter{SubmitBefore: t0, CheckDueBefore: t0.Add(time.Hour)}, []string{"sub-later", "sub"}},
		"NoMatch":        {pixauto.AttemptFilter{States: []pixauto.AttemptState{pixauto.AttemptRefused}}, []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupDue(t)
			got, err := b.store.DueAttempts(b.ctx, tc.f)
			require.NoError(t, err)
			require.Equal(t, tc.want, attemptIDs(got))
		})
	}

	t.Run("Records", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		_, want := b.insertCharge(t, "k1", "ch1", "zero")
		got, err := b.store.DueAttempts(b.ctx, pixauto.AttemptFilter{})
		require.NoError(t, err)
		require.Equal(t, []*pixauto.AttemptRecord{want}, got)
	})
}
