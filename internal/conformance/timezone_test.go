package conformance

import (
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brasiliaDate is the Brasília date of a UTC instant.
func brasiliaDate(t consent.DateTime) consent.Date { return consent.DateOf(t.Time, consent.Brasilia) }

// automatic-payments_api_automatic-pix-scheduled-firstPayment-timezone_test-module_v2-2
//
// A firstPayment created between 21:00 and 24:00 Brasília — already the
// next day in UTC — settles (ACSC) on the same Brazilian day. Every date is
// a Brasília date; only the endToEndId timestamp is UTC.
func TestAutomaticPixTimezone_ScheduledFirstPayment(t *testing.T) {
	t.Parallel()
	day := consent.DateOf(sandboxtest.DefaultStart, consent.Brasilia)
	s := newEnv(t, sandboxtest.Options{Start: sandboxtest.At(day, 21, 30)})
	require.Equal(t, day, s.Today())
	require.Equal(t, day.AddDays(1), consent.DateOf(s.Clock.Now(), time.UTC), "already tomorrow in UTC")

	// Immediate: dated today (Brasília), E2EID at the current UTC minute.
	s.authorise(withFirstPayment(day, "49.90", sandboxtest.CreditorAccount))
	fp := s.firstPayment()
	assert.Equal(t, day, fp.Date)
	e2e, err := payments.ParseE2EID(fp.EndToEndID)
	require.NoError(t, err)
	assert.Equal(t, day.AddDays(1), e2e.Date(), "the E2EID carries the UTC date")
	assert.Equal(t, s.Clock.Now().UTC().Truncate(time.Minute), e2e.Time)
	fp, _ = s.awaitFinal(fp.ID, time.Minute, sandboxtest.At(day, 23, 59))
	require.Equal(t, payments.StatusACSC, fp.Status)
	assert.Equal(t, day, brasiliaDate(fp.StatusUpdateDateTime), "settled on the same Brazilian day")

	// Scheduled at 23:30 Brasília for tomorrow: the E2EID carries
	// tomorrow at 15:00 UTC, and it settles tomorrow, not today.
	s.AdvanceTo(t, sandboxtest.At(day, 23, 30))
	tomorrow := day.AddDays(1)
	s.authorise(withFirstPayment(tomorrow, "49.90", sandboxtest.CreditorAccount))
	sched := s.firstPayment()
	e2e, err = payments.ParseE2EID(sched.EndToEndID)
	require.NoError(t, err)
	assert.Equal(t, tomorrow, e2e.Date())
	assert.True(t, e2e.IsScheduled())
	sched = s.awaitStatus(sched.ID, payments.StatusSCHD, time.Minute, sandboxtest.At(day, 23, 59))
	assert.Equal(t, tomorrow, sched.Date)
	s.AdvanceTo(t, sandboxtest.At(tomorrow, 8, 0))
	sched = s.get(sched.ID)
	require.Equal(t, payments.StatusACSC, sched.Status)
	assert.Equal(t, tomorrow, brasiliaDate(sched.StatusUpdateDateTime))
}

// lateRevocation schedules two payments due on D+1 and D+2, revokes the
// consent at 22:30 Brasília on D (01:30 UTC on D+1) with the given actor and
// reason, and returns the two payments after D+1's settlement windows.
func lateRevocation(t *testing.T, by consent.By, code consent.RevocationCode) (s *scenario, d1, d2 *payments.Payment) {
	s = newEnv(t, sandboxtest.Options{})
	start := s.Today()
	ref := start.AddDays(2)
	s.authorise(withInterval(consent.IntervalSemanal), withReferenceStart(ref))
	d := ref.AddDays(5)
	d1 = s.charge(0, d.AddDays(1), "150.00") // last day of cycle 0
	d2 = s.charge(1, d.AddDays(2), "150.00") // first day of cycle 1
	for _, p := range []*payments.Payment{d1, d2} {
		s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	}

	s.AdvanceTo(t, sandboxtest.At(d, 22, 30))
	require.Equal(t, d.AddDays(1), consent.DateOf(s.Clock.Now(), time.UTC))
	r, err := consent.NewRevocation(s.c, by, consent.FromIniciadora, code, "revogado no fim da noite")
	require.NoError(t, err)
	c, err := s.Consents.Revoke(bg, s.c.RecurringConsentID, r, fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	require.Equal(t, consent.StatusRevoked, c.Status)
	require.NotNil(t, c.Revocation)
	assert.Equal(t, by, c.Revocation.RevokedBy)
	assert.Equal(t, code, c.Revocation.Reason.Code)
	require.NotNil(t, c.Revocation.RevokedAt)
	assert.Equal(t, d, brasiliaDate(*c.Revocation.RevokedAt), "revoked on D in Brasília")
	s.c = c

	s.AdvanceTo(t, sandboxtest.At(d.AddDays(1), 22, 0))
	return s, s.get(d1.ID), s.get(d2.ID)
}

// assertCancelledBy checks a payment cancelled by the revocation.
func assertCancelledBy(t *testing.T, p *payments.Payment, by consent.Document) {
	t.Helper()
	require.Equal(t, payments.StatusCANC, p.Status, "payment due %s", p.Date)
	require.NotNil(t, p.Cancellation)
	assert.Equal(t, payments.CancelledScheduled, p.Cancellation.Reason)
	assert.Equal(t, by, p.Cancellation.CancelledBy)
}

// automatic-payments_api_automatic-pix-receiver-revoked-consent-timezone_test-module_v2-2
//
// The receiver revokes late in the evening (22:00–23:59 Brasília, already
// the next day in UTC): the payment due the next day is kept and settles,
// the one due from D+2 is cancelled (CANCELADO_AGENDAMENTO) with the
// creditor as canceller. The revocation carries reason REVOGADO_RECEBEDOR.
func TestAutomaticPixTimezone_ReceiverRevokedConsent(t *testing.T) {
	t.Parallel()
	_, d1, d2 := lateRevocation(t, consent.ByIniciadora, consent.RevocationRecebedor)
	assert.Equal(t, payments.StatusACSC, d1.Status, "D+1 is kept after a receiver's revocation at 22:30")
	assertCancelledBy(t, d2, receiver())
}

// automatic-payments_api_automatic-pix-user-revoked-consent-timezone_test-module_v2-2
//
// The same late-evening revocation asked by the user (REVOGADO_USUARIO):
// every payment from D+1 on is cancelled, with the logged user as
// canceller.
func TestAutomaticPixTimezone_UserRevokedConsent(t *testing.T) {
	t.Parallel()
	_, d1, d2 := lateRevocation(t, consent.ByUsuario, consent.RevocationUsuario)
	user := payer().Document
	assertCancelledBy(t, d1, user)
	assertCancelledBy(t, d2, user)
}
