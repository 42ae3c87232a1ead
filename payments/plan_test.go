package payments_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

func newPlanner(v payments.Version, policy payments.DueDatePolicy) *payments.Planner {
	return &payments.Planner{Version: v, Generator: newGen(), CNPJInitiator: itpCNPJ, DueDates: policy}
}

func TestPlannerRecurrence(t *testing.T) {
	t.Parallel()
	charge := payments.Charge{Cycle: 1, Amount: amount("150.00"), CreditorAccount: creditorAccount()}
	tests := []struct {
		name     string
		v        payments.Version
		policy   payments.DueDatePolicy
		charge   func(*payments.Charge)
		now      time.Time
		existing []payments.Payment
		date     consent.Date
		ref      string
		err      error
	}{
		{name: "cycle start (a Saturday) by default", v: payments.V220, now: createNow,
			date: date(2025, 8, 23), ref: "R/2025-08-23/P1M"},
		{name: "2.1.0 label", v: payments.V210, now: createNow,
			date: date(2025, 8, 23), ref: "M08-2025"},
		{name: "explicit due date", v: payments.V220, now: createNow, charge: func(c *payments.Charge) { c.Due = payDay },
			date: payDay, ref: "R/2025-08-23/P1M"},
		{name: "Saturday to Monday", v: payments.V220, now: createNow, policy: payments.DueDateNextBusinessDay,
			date: date(2025, 8, 25), ref: "R/2025-08-23/P1M"},
		{name: "Saturday to Friday", v: payments.V220, now: createNow, policy: payments.DueDatePreviousBusinessDay,
			date: date(2025, 8, 22), ref: "R/2025-08-23/P1M"},
		{name: "moved out of the window", v: payments.V220, now: brt(2025, 8, 13, 10, 0, 0), policy: payments.DueDateNextBusinessDay,
			err: payments.ErrOutsideWindow},
		{name: "too early", v: payments.V220, now: brt(2025, 8, 10, 10, 0, 0), err: payments.ErrOutsideWindow},
		{name: "cycle already paid", v: payments.V220, now: createNow,
			existing: []payments.Payment{{ID: "p", Status: payments.StatusSCHD, PaymentReference: "M08-2025"}},
			err:      payments.ErrDuplicateCycle},
		{name: "above the cap", v: payments.V220, now: createNow, charge: func(c *payments.Charge) { c.Amount = amount("500.01") },
			err: payments.ErrAmountAboveMaximum},
		{name: "negative cycle", v: payments.V220, now: createNow, charge: func(c *payments.Charge) { c.Cycle = -1 },
			err: payments.ErrCycleOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch := charge
			if tt.charge != nil {
				tt.charge(&ch)
			}
			r, err := newPlanner(tt.v, tt.policy).Recurrence(newConsent(), ch, tt.now, tt.existing)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.date, r.Date)
			e, err := payments.ParseE2EID(r.EndToEndID)
			require.NoError(t, err)
			require.Equal(t, tt.date, e.Date())
			require.True(t, e.IsScheduled())
			ref, err := r.Reference.Format(tt.v)
			require.NoError(t, err)
			require.Equal(t, tt.ref, ref)
			require.Equal(t, consent.DocumentFor(creditorCNPJ), r.Document)
			_, err = payments.EncodeCreate(tt.v, r)
			require.NoError(t, err)
		})
	}
}

func TestPlannerFirstPayment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		now       time.Time
		consent   *consent.Consent
		date      consent.Date
		immediate bool
		err       error
	}{
		{name: "scheduled on the declared date", now: brt(2025, 7, 18, 10, 0, 0), date: date(2025, 7, 20)},
		{name: "immediate on the declared date", now: brt(2025, 7, 20, 22, 30, 0), date: date(2025, 7, 20), immediate: true},
		{name: "late: the declared date has passed", now: brt(2025, 7, 21, 9, 0, 0), err: payments.ErrOutsideWindow},
		{name: "no firstPayment", now: brt(2025, 7, 18, 10, 0, 0), consent: newConsent(withoutFirstPayment()), err: payments.ErrMissing},
		{name: "consent not authorised", now: brt(2025, 7, 18, 10, 0, 0),
			consent: newConsent(withStatus(consent.StatusAwaitingAuthorisation)), err: payments.ErrConsentNotAuthorised},
		{name: "nil consent", now: brt(2025, 7, 18, 10, 0, 0), consent: &consent.Consent{}, err: payments.ErrNotAutomatic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.consent
			if c == nil {
				c = newConsent()
			}
			r, err := newPlanner(payments.V220, payments.DueDateAsIs).FirstPayment(c, tt.now, nil)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.date, r.Date)
			require.True(t, r.Reference.First)
			require.Equal(t, amount("99.90"), r.Amount)
			require.Equal(t, creditorAccount(), r.CreditorAccount)
			e, err := payments.ParseE2EID(r.EndToEndID)
			require.NoError(t, err)
			if tt.immediate {
				require.Equal(t, tt.now.UTC().Truncate(time.Minute), e.Time)
			} else {
				require.True(t, e.IsScheduled())
				require.Equal(t, tt.date, e.Date())
			}
		})
	}
}

func TestPlannerNeedsGenerator(t *testing.T) {
	t.Parallel()
	p := &payments.Planner{CNPJInitiator: itpCNPJ}
	_, err := p.Recurrence(newConsent(), payments.Charge{}, createNow, nil)
	require.ErrorIs(t, err, payments.ErrMissing)
	_, err = p.FirstPayment(newConsent(), createNow, nil)
	require.ErrorIs(t, err, payments.ErrMissing)
	_, err = newPlanner(payments.V220, 0).Recurrence(nil, payments.Charge{}, createNow, nil)
	require.ErrorIs(t, err, payments.ErrNotAutomatic)
}
