package pixauto_test

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
)

// overtakingStore is the store of a sender that, between its look-up at
// the bank and its own request, is overtaken by another send of the same
// attempt (overtake): its list of charges, read while the request is
// prepared, is where it lets the other one go first.
type overtakingStore struct {
	pixauto.Store
	overtake func()
	once     sync.Once
}

func (s *overtakingStore) ListCharges(ctx context.Context, f pixauto.ChargeFilter) iter.Seq2[*pixauto.ChargeRecord, error] {
	s.once.Do(s.overtake)
	return s.Store.ListCharges(ctx, f)
}

// inFlightStore is the store of a sender whose request reaches the bank
// but whose answer has not come back: it stores nothing, and the bank has
// not yet recorded the request under the attempt's idempotency key (a
// bank replays an answer only once it has it), which a fresh key stands
// for here.
type inFlightStore struct {
	pixauto.Store
	key string
}

func (s *inFlightStore) GetAttempt(ctx context.Context, id string) (*pixauto.AttemptRecord, error) {
	a, err := s.Store.GetAttempt(ctx, id)
	if a != nil {
		a.IdempotencyKey = s.key
	}
	return a, err
}

func (s *inFlightStore) UpdateAttempt(context.Context, *pixauto.AttemptRecord) error {
	return errKilled
}

// Two sends of one attempt overlap — a sender still at it past the grace
// period and the reconciliation, or a job worked twice: the first creates
// the payment while the second is on its way, and the bank refuses the
// second (its E2EID is taken). That refusal must not be recorded as the
// attempt's: the bank has the payment, which settles.
func TestOverlappingSendsOfOneAttempt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())
	crashed := e.initiator(&crashingStore{Store: e.store, killListAfterSending: true})
	due := e.Today().AddDays(3)
	ch, err := crashed.Charge(bg, pixauto.ChargeRequest{ConsentID: rec.ID, DueDate: due, Amount: mustAmount("150.00"), CreditorAccount: sandboxtest.CreditorAccount})
	require.NoError(t, err)
	a := e.attempts(ch.ID)[0]
	require.Equal(t, pixauto.AttemptSending, a.State, "claimed, and nothing sent")
	require.Empty(t, e.Bank.Payments(rec.ID))

	overtaken := e.initiator(&overtakingStore{Store: e.store, overtake: func() {
		first := e.initiator(&inFlightStore{Store: e.store, key: "in-flight-" + a.ID[:8]})
		require.ErrorIs(t, first.Submit(bg, a.ID), errKilled)
		require.Len(t, e.Bank.Payments(rec.ID), 1, "the first send created the payment")
	}})
	require.NoError(t, overtaken.Submit(bg, a.ID))

	ps := e.Bank.Payments(rec.ID)
	require.Len(t, ps, 1)
	a = e.attempts(ch.ID)[0]
	assert.Equal(t, pixauto.AttemptSubmitted, a.State, "the refusal of the second send is not the attempt's")
	assert.Equal(t, ps[0].ID, a.PaymentID)
	e.runUntil(sandboxtest.At(due, 12, 0), time.Hour)
	assert.Equal(t, pixauto.ChargeSettled, e.charge(ch.ID).Status)
}
