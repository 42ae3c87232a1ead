package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
)

// t0 is the suite's fixed clock, with microsecond precision so that stored
// times compare equal.
var t0 = time.Date(2025, time.July, 1, 12, 30, 45, 123456000, time.UTC)

// bundle is what each subtest works with.
type bundle struct {
	ctx   context.Context
	store pixauto.Store
}

func setup(t *testing.T, newStore func(t *testing.T) pixauto.Store) *bundle {
	t.Helper()
	s := newStore(t)
	require.NotNil(t, s)
	return &bundle{ctx: t.Context(), store: s}
}

func amountPtr(s string) *consent.Amount {
	a := consent.MustAmount(s)
	return &a
}

func dateTimePtr(t time.Time) *consent.DateTime {
	v := consent.NewDateTime(t)
	return &v
}

// fullConsent returns a consent with every field set, non-ASCII text
// included.
func fullConsent(id string) *consent.Consent {
	yes := true
	due := consent.MustDate("2025-07-02")
	return &consent.Consent{
		RecurringConsentID:   id,
		Status:               consent.StatusRevoked,
		StatusUpdateDateTime: consent.NewDateTime(t0),
		CreationDateTime:     consent.NewDateTime(t0.Add(-48 * time.Hour)),
		LoggedUser:           &consent.LoggedUser{Document: consent.DocumentFor("12345678901")},
		BusinessEntity:       &consent.BusinessEntity{Document: consent.DocumentFor("12345678000195")},
		Creditors: []consent.Creditor{{
			PersonType: consent.PessoaJuridica, CpfCnpj: "98765432000198", Name: "Academia Ação & Saúde Ltda",
		}},
		RecurringConfiguration: consent.RecurringConfiguration{Automatic: &consent.Automatic{
			ContractID:            "CT-2025/001",
			MaximumVariableAmount: amountPtr("500.00"),
			MinimumVariableAmount: amountPtr("50.00"),
			Interval:              consent.IntervalMensal,
			ReferenceStartDate:    consent.MustDate("2025-08-01"),
			IsRetryAccepted:       true,
			ContractDebtor:        consent.ContractDebtor{Name: "João da Silva", Document: consent.DocumentFor("12345678901")},
			FirstPayment: &consent.FirstPayment{
				Type: "PIX", Date: consent.MustDate("2025-07-03"), Currency: "BRL",
				Amount: consent.MustAmount("99.90"), RemittanceInformation: "Matrícula",
				CreditorAccount: consent.Account{ISPB: "12345678", Issuer: "0001", Number: "123456", AccountType: consent.AccountCACC},
			},
			UseOverdraftLimit: &yes,
		}},
		ExpirationDateTime:    dateTimePtr(t0.AddDate(1, 0, 0)),
		AdditionalInformation: "Plano anual — informações adicionais",
		DebtorAccount: &consent.Account{
			ISPB: "87654321", Issuer: "0002", Number: "654321", AccountType: consent.AccountSVGS, IBGETownCode: "3550308",
		},
		Rejection: &consent.Rejection{
			RejectedBy: consent.ByUsuario, RejectedFrom: consent.FromDetentora, RejectedAt: dateTimePtr(t0),
			Reason: consent.RejectionReason{Code: consent.RejectionRejeitadoUsuario, Detail: "recusado"},
		},
		Revocation: &consent.Revocation{
			RevokedBy: consent.ByIniciadora, RevokedFrom: consent.FromIniciadora, RevokedAt: dateTimePtr(t0),
			Reason: consent.RevocationReason{Code: consent.RevocationRecebedor, Detail: "contrato encerrado"},
		},
		AuthorisedAtDateTime: dateTimePtr(t0.Add(-47 * time.Hour)),
		UpdatedAtDateTime:    dateTimePtr(t0.Add(-time.Hour)),
		ApprovalDueDate:      &due,
		Journey:              &consent.Journey{IsLinked: true, LinkID: "link-1"},
	}
}

// otherConsent is a consent of another kind: fixed amount, and the raw
// sweeping and VRP variants, which must come back byte for byte.
func otherConsent(id string) *consent.Consent {
	return &consent.Consent{
		RecurringConsentID:   id,
		Status:               consent.StatusAwaitingAuthorisation,
		StatusUpdateDateTime: consent.NewDateTime(t0),
		CreationDateTime:     consent.NewDateTime(t0),
		Creditors:            []consent.Creditor{},
		RecurringConfiguration: consent.RecurringConfiguration{
			Automatic: &consent.Automatic{
				ContractID: "CT-2", FixedAmount: amountPtr("1234567890.12"), Interval: consent.IntervalSemanal,
				ReferenceStartDate: consent.MustDate("2025-07-07"),
			},
			Sweeping: json.RawMessage(`{"totalAllowedAmount":"1000.00","periodicLimits":{"day":{"quantityLimit":2}}}`),
			Vrp:      json.RawMessage(`{"z":1,"a":[true,null,"x"]}`),
		},
	}
}

func newConsent(id string) *pixauto.ConsentRecord {
	return &pixauto.ConsentRecord{
		ID:             id,
		ReceiverID:     "receiver-1",
		HolderID:       "holder-1",
		Status:         consent.StatusAuthorised,
		Consent:        fullConsent(id),
		IdempotencyKey: "idem-consent-" + id,
		NextCheckAt:    t0.Add(time.Hour),
		CreatedAt:      t0,
		UpdatedAt:      t0.Add(time.Minute),
		Version:        1,
	}
}

func newCharge(consentID, id, reference string) *pixauto.ChargeRecord {
	return &pixauto.ChargeRecord{
		ID:          id,
		ReceiverID:  "receiver-1",
		ConsentID:   consentID,
		HolderID:    "holder-1",
		Reference:   reference,
		Amount:      consent.MustAmount("149.90"),
		DueDate:     consent.MustDate("2025-08-05"),
		Status:      pixauto.ChargePlanned,
		FailureCode: payments.RejectionSaldoInsuficiente,
		Description: "Mensalidade de agosto — ação",
		ExternalID:  "",
		CreatedAt:   t0,
		UpdatedAt:   t0,
		Version:     1,
	}
}

// newAttempt returns attempt seq of c. Its E2EID and idempotency key derive
// from its ID, so distinct IDs never collide.
func newAttempt(c *pixauto.ChargeRecord, id string, seq int) *pixauto.AttemptRecord {
	kind := payments.KindOriginal
	if seq > 0 {
		kind = payments.KindExtraday
	}
	return &pixauto.AttemptRecord{
		ID:             id,
		ChargeID:       c.ID,
		ConsentID:      c.ConsentID,
		Seq:            seq,
		Kind:           kind,
		EndToEndID:     "E12345678202508051500" + id,
		IdempotencyKey: "idem-" + id,
		Date:           c.DueDate.AddDays(seq),
		State:          pixauto.AttemptPlanned,
		SubmitAt:       t0.Add(time.Duration(seq) * time.Hour),
		Request:        []byte(fmt.Sprintf(`{"endToEndId":"E12345678202508051500%s","amount":"149.90"}`, id)),
		CreatedAt:      t0,
		UpdatedAt:      t0,
		Version:        1,
	}
}

// insertConsent stores a consent for a test's charges.
func (b *bundle) insertConsent(t *testing.T, id string) *pixauto.ConsentRecord {
	t.Helper()
	c := newConsent(id)
	require.NoError(t, b.store.InsertConsent(b.ctx, c))
	return c
}

// insertCharge stores a charge of consentID with an original attempt whose
// ID is the charge's plus "-0".
func (b *bundle) insertCharge(t *testing.T, consentID, id, reference string) (*pixauto.ChargeRecord, *pixauto.AttemptRecord) {
	t.Helper()
	c := newCharge(consentID, id, reference)
	a := newAttempt(c, id+"-0", 0)
	require.NoError(t, b.store.InsertCharge(b.ctx, c, a))
	return c, a
}

// ids returns the IDs of a list's records, failing on its first error.
func ids[R any](t *testing.T, seq func(func(R, error) bool), id func(R) string) []string {
	t.Helper()
	out := []string{}
	for r, err := range seq {
		require.NoError(t, err)
		out = append(out, id(r))
	}
	return out
}

func consentIDs(t *testing.T, b *bundle, f pixauto.ConsentFilter) []string {
	t.Helper()
	return ids(t, b.store.ListConsents(b.ctx, f), func(c *pixauto.ConsentRecord) string { return c.ID })
}

func chargeIDs(t *testing.T, b *bundle, f pixauto.ChargeFilter) []string {
	t.Helper()
	return ids(t, b.store.ListCharges(b.ctx, f), func(c *pixauto.ChargeRecord) string { return c.ID })
}

func attemptIDs(as []*pixauto.AttemptRecord) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}
