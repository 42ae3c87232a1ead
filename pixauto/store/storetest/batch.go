package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
)

// newPlan returns a charge of consentID with its original attempt, whose
// ID is the charge's plus "-0".
func newPlan(consentID, id, reference string) pixauto.ChargePlan {
	c := newCharge(consentID, id, reference)
	return pixauto.ChargePlan{Charge: c, First: newAttempt(c, id+"-0", 0)}
}

// requireContents checks that the store holds exactly the charges and
// attempts of want, field for field: nothing of a skipped plan is left.
func (b *bundle) requireContents(t *testing.T, want ...pixauto.ChargePlan) {
	t.Helper()
	want = slices.Clone(want)
	slices.SortFunc(want, func(x, y pixauto.ChargePlan) int { return strings.Compare(x.Charge.ID, y.Charge.ID) })
	var got []pixauto.ChargePlan
	for c, err := range b.store.ListCharges(b.ctx, pixauto.ChargeFilter{}) {
		require.NoError(t, err)
		as, err := b.store.ListAttempts(b.ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, as, 1, "charge %s must be stored with exactly its first attempt", c.ID)
		got = append(got, pixauto.ChargePlan{Charge: c, First: as[0]})
	}
	require.Equal(t, len(want), len(got), "charges stored")
	for i := range want {
		require.Equal(t, want[i].Charge, got[i].Charge)
		require.Equal(t, want[i].First, got[i].First)
	}
}

func exerciseInsertCharges(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for _, plans := range [][]pixauto.ChargePlan{nil, {}} {
			skipped, err := b.store.InsertCharges(b.ctx, plans)
			require.NoError(t, err)
			require.Empty(t, skipped)
		}
		b.requireContents(t)
	})

	t.Run("AllStored", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertConsent(t, "k2")
		full := newPlan("k1", "ch1", "2025-08-01")
		full.Charge.ExternalID = "NF-1"
		full.Charge.Amount = consent.MaxAmount
		full.First.PaymentID = "urn:bank:payment-1"
		full.First.Status = payments.StatusRJCT
		full.First.RejectionCode = payments.RejectionSaldoInsuficiente
		full.First.State = pixauto.AttemptSubmitted
		full.First.Kind = payments.KindIntraday
		full.First.NextCheckAt = t0.Add(3 * time.Hour)
		zero := pixauto.ChargePlan{
			Charge: &pixauto.ChargeRecord{ID: "ch2", ConsentID: "k2", Reference: "zero"},
			First:  &pixauto.AttemptRecord{ID: "at2", ChargeID: "ch2", ConsentID: "k2", EndToEndID: "e2", IdempotencyKey: "i2"},
		}
		other := newPlan("k2", "ch3", "2025-08-01")
		failed := newPlan("k1", "ch4", "2025-08-01") // a failed charge does not hold its cycle
		failed.Charge.Status = pixauto.ChargeFailed
		plans := []pixauto.ChargePlan{full, zero, other, failed}
		skipped, err := b.store.InsertCharges(b.ctx, plans)
		require.NoError(t, err)
		require.Empty(t, skipped)
		b.requireContents(t, plans...)
		got, err := b.store.GetAttempt(b.ctx, "at2")
		require.NoError(t, err)
		require.Nil(t, got.Request, "a nil request stays nil")
		byPayment, err := b.store.AttemptByPaymentID(b.ctx, "urn:bank:payment-1")
		require.NoError(t, err)
		require.Equal(t, full.First, byPayment)
	})

	// Every rule of InsertCharge, broken against a stored charge or
	// attempt, and then by an earlier plan of the same batch. In both
	// cases the plan is skipped whole and the plans around it are stored.
	rules := map[string]func(p, taken pixauto.ChargePlan){
		"ChargeID":       func(p, taken pixauto.ChargePlan) { p.Charge.ID, p.First.ChargeID = taken.Charge.ID, taken.Charge.ID },
		"LiveCycle":      func(p, taken pixauto.ChargePlan) { p.Charge.Reference = taken.Charge.Reference },
		"ExternalID":     func(p, taken pixauto.ChargePlan) { p.Charge.ExternalID = taken.Charge.ExternalID },
		"AttemptID":      func(p, taken pixauto.ChargePlan) { p.First.ID = taken.First.ID },
		"EndToEndID":     func(p, taken pixauto.ChargePlan) { p.First.EndToEndID = taken.First.EndToEndID },
		"IdempotencyKey": func(p, taken pixauto.ChargePlan) { p.First.IdempotencyKey = taken.First.IdempotencyKey },
		"PaymentID":      func(p, taken pixauto.ChargePlan) { p.First.PaymentID = taken.First.PaymentID },
	}
	takenPlan := func() pixauto.ChargePlan {
		p := newPlan("k1", "taken", "2025-08-01")
		p.Charge.ExternalID = "NF-1"
		p.First.PaymentID = "urn:bank:payment-1"
		return p
	}
	// around returns the plans stored around the one that breaks a rule:
	// another cycle of the same consent and a charge of another consent.
	around := func() (pixauto.ChargePlan, pixauto.ChargePlan) {
		return newPlan("k1", "before", "2025-09-01"), newPlan("k2", "after", "2025-08-01")
	}

	t.Run("RuleAgainstStored", func(t *testing.T) {
		t.Parallel()
		for name, breakRule := range rules {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, newStore)
				b.insertConsent(t, "k1")
				b.insertConsent(t, "k2")
				taken := takenPlan()
				require.NoError(t, b.store.InsertCharge(b.ctx, taken.Charge, taken.First))

				p := newPlan("k1", "ch1", "2025-10-01")
				breakRule(p, taken)
				before, after := around()
				skipped, err := b.store.InsertCharges(b.ctx, []pixauto.ChargePlan{before, p, after})
				require.NoError(t, err)
				require.Equal(t, []int{1}, skipped)
				b.requireContents(t, taken, before, after)
			})
		}
	})

	t.Run("RuleInBatch", func(t *testing.T) {
		t.Parallel()
		for name, breakRule := range rules {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, newStore)
				b.insertConsent(t, "k1")
				b.insertConsent(t, "k2")
				taken := takenPlan()
				p := newPlan("k1", "ch1", "2025-10-01")
				breakRule(p, taken)
				before, after := around()
				skipped, err := b.store.InsertCharges(b.ctx, []pixauto.ChargePlan{before, taken, p, after})
				require.NoError(t, err)
				require.Equal(t, []int{2}, skipped, "the earlier plan of the batch wins")
				b.requireContents(t, before, taken, after)
			})
		}
	})

	t.Run("DeadCycleIsFree", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		dead := newPlan("k1", "dead", "2025-08-01")
		dead.Charge.Status = pixauto.ChargeCancelled
		require.NoError(t, b.store.InsertCharge(b.ctx, dead.Charge, dead.First))
		failed := newPlan("k1", "failed", "2025-08-01")
		failed.Charge.Status = pixauto.ChargeFailed
		live := newPlan("k1", "live", "2025-08-01")
		again := newPlan("k1", "again", "2025-08-01")
		skipped, err := b.store.InsertCharges(b.ctx, []pixauto.ChargePlan{failed, live, again})
		require.NoError(t, err)
		require.Equal(t, []int{2}, skipped, "only a live charge holds the cycle")
		b.requireContents(t, dead, failed, live)
	})

	t.Run("UnknownConsent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		ok1, missing, ok2 := newPlan("k1", "ch1", "2025-08-01"), newPlan("missing", "ch2", "2025-08-01"), newPlan("k1", "ch3", "2025-09-01")
		skipped, err := b.store.InsertCharges(b.ctx, []pixauto.ChargePlan{ok1, missing, ok2})
		require.NoError(t, err, "an unknown consent skips its plan, not the batch")
		require.Equal(t, []int{1}, skipped)
		b.requireContents(t, ok1, ok2)
	})

	// A plan skipped because its first attempt breaks a rule (of a stored
	// attempt, or of an earlier plan's) holds nothing: its charge's cycle
	// and external id are free for a later plan of the same batch, as they
	// would be for a later InsertCharge.
	t.Run("SkippedPlanHoldsNothing", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"AttemptID", "EndToEndID", "IdempotencyKey", "PaymentID"} {
			for _, inBatch := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/InBatch=%t", name, inBatch), func(t *testing.T) {
					t.Parallel()
					b := setup(t, newStore)
					b.insertConsent(t, "k1")
					taken := takenPlan()
					taken.Charge.ExternalID = ""
					var plans []pixauto.ChargePlan
					if inBatch {
						plans = append(plans, taken)
					} else {
						require.NoError(t, b.store.InsertCharge(b.ctx, taken.Charge, taken.First))
					}
					bad := newPlan("k1", "bad", "2025-09-01")
					bad.Charge.ExternalID = "NF-9"
					rules[name](bad, taken)
					good := newPlan("k1", "good", "2025-09-01")
					good.Charge.ExternalID = "NF-9"
					plans = append(plans, bad, good)
					skipped, err := b.store.InsertCharges(b.ctx, plans)
					require.NoError(t, err)
					require.Equal(t, []int{len(plans) - 2}, skipped)
					b.requireContents(t, taken, good)
				})
			}
		}
	})

	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertConsent(t, "k2")
		for name, bad := range map[string]pixauto.ChargePlan{
			"NilCharge":    {First: newPlan("k1", "x", "zero").First},
			"NilAttempt":   {Charge: newCharge("k1", "x", "zero")},
			"OtherCharge":  {Charge: newCharge("k1", "x", "zero"), First: newPlan("k1", "y", "zero").First},
			"OtherConsent": {Charge: newCharge("k1", "x", "zero"), First: newPlan("k2", "x", "zero").First},
		} {
			skipped, err := b.store.InsertCharges(b.ctx, []pixauto.ChargePlan{newPlan("k1", "ok", "2025-08-01"), bad})
			require.Error(t, err, name)
			require.Empty(t, skipped, name)
		}
		b.requireContents(t)
	})

	t.Run("Mixed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for i := range 10 {
			b.insertConsent(t, fmt.Sprintf("k%d", i))
		}
		held := newPlan("k3", "held", "2025-08-01")
		require.NoError(t, b.store.InsertCharge(b.ctx, held.Charge, held.First))
		var plans, stored []pixauto.ChargePlan
		var wantSkipped []int
		for i := range 10 {
			p := newPlan(fmt.Sprintf("k%d", i), fmt.Sprintf("ch%d", i), "2025-08-01")
			skip := true
			switch i {
			case 3: // k3 already has its August charge
			case 5:
				p.First.EndToEndID = held.First.EndToEndID
			case 7:
				p.Charge.ConsentID, p.First.ConsentID = "missing", "missing"
			case 8:
				p.First.IdempotencyKey = plans[1].First.IdempotencyKey
			default:
				skip = false
			}
			plans = append(plans, p)
			if skip {
				wantSkipped = append(wantSkipped, i)
			} else {
				stored = append(stored, p)
			}
		}
		skipped, err := b.store.InsertCharges(b.ctx, plans)
		require.NoError(t, err)
		require.Equal(t, wantSkipped, skipped)
		b.requireContents(t, append(stored, held)...)

		// Running the same billing again (new IDs, same cycles) stores
		// nothing, and says so for every plan.
		var rerun []pixauto.ChargePlan
		for i, p := range append(stored, held) {
			rerun = append(rerun, newPlan(p.Charge.ConsentID, fmt.Sprintf("re%d", i), p.Charge.Reference))
		}
		skipped, err = b.store.InsertCharges(b.ctx, rerun)
		require.NoError(t, err)
		require.Len(t, skipped, len(rerun))
		b.requireContents(t, append(stored, held)...)
	})

	t.Run("LargeBatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		const n = 500
		plans := make([]pixauto.ChargePlan, 0, n)
		for i := range n {
			k := fmt.Sprintf("k%03d", i%50)
			if i < 50 {
				b.insertConsent(t, k)
			}
			plans = append(plans, newPlan(k, fmt.Sprintf("ch%03d", i), fmt.Sprintf("ref%03d", i)))
		}
		skipped, err := b.store.InsertCharges(b.ctx, plans)
		require.NoError(t, err)
		require.Empty(t, skipped)
		b.requireContents(t, plans...)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		const n = 20
		for i := range n {
			b.insertConsent(t, fmt.Sprintf("k%02d", i))
		}
		// Every racer bills the same cycles with its own IDs: each cycle
		// gets one charge, and every other plan is reported skipped.
		batches := make([][]pixauto.ChargePlan, racers)
		skips := make([][]int, racers)
		errs := race(racers, func(r int) error {
			for i := range n {
				batches[r] = append(batches[r], newPlan(fmt.Sprintf("k%02d", i), fmt.Sprintf("r%d-ch%02d", r, i), "2025-08-01"))
			}
			var err error
			skips[r], err = b.store.InsertCharges(b.ctx, batches[r])
			return err
		})
		var stored []pixauto.ChargePlan
		for r, err := range errs {
			require.NoError(t, err)
			for i, p := range batches[r] {
				if !slices.Contains(skips[r], i) {
					stored = append(stored, p)
				}
			}
		}
		require.Len(t, stored, n, "one charge per cycle")
		b.requireContents(t, stored...)
	})

	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		ctx, cancel := context.WithCancel(b.ctx)
		cancel()
		for _, plans := range [][]pixauto.ChargePlan{nil, {newPlan("k1", "ch1", "2025-08-01")}} {
			_, err := b.store.InsertCharges(ctx, plans)
			require.ErrorIs(t, err, context.Canceled)
		}
		b.requireContents(t)
	})
}
