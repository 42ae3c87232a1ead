package journey

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// All returns every journey, in the order they run.
func All() []Journey {
	return []Journey{
		{Name: "adhesion-no-first-payment", Title: "a consent without a first payment, then a scheduled recurrence that settles on its date",
			Needs: NeedPayer, Run: adhesionNoFirstPayment},
		{Name: "adhesion-immediate-first-payment", Title: "a consent whose first payment is made at once (MANU, \"zero\"), then a recurrence (AUTO)",
			Module: module("mensal-core"), Needs: NeedPayer, Run: adhesionImmediateFirstPayment},
		{Name: "adhesion-scheduled-first-payment", Title: "a consent whose first payment is scheduled: SCHD, then settled on its date, not before",
			Module: module("scheduled-firstPayment"), Needs: NeedPayer, Run: adhesionScheduledFirstPayment},
		{Name: "edit", Title: "the ITP raises the consent's maximum; a payment above the old one goes through",
			Module: module("consent-edition-permissive"), Needs: NeedPayer, Run: edit},
		{Name: "revoke", Title: "the receiver revokes the consent: its scheduled payment is cancelled",
			Module: module("revoked"), Needs: NeedPayer, Run: revoke},
		{Name: "reject", Title: "the ITP rejects a consent before the payer authorises it", Run: reject},
		{Name: "cancel", Title: "the receiver cancels a scheduled payment, which is never attempted", Needs: NeedPayer, Run: cancel},
		{Name: "retry-intraday", Title: "an SPI failure in the morning is retried the same day with a new endToEndId, and settles",
			Module: module("intraday-core"), Needs: NeedPayer | NeedTime | NeedSettlement, Run: retryIntraday},
		{Name: "retry-next-day", Title: "insufficient funds all day: the payment is retried the next day, and settles",
			Module: module("extraday-core"), Needs: NeedPayer | NeedTime | NeedSettlement, Run: retryNextDay},
		{Name: "retry-limit-reached", Title: "three next-day retries fail: the SDK gives up and a fourth is refused on both sides", Needs: NeedPayer | NeedTime | NeedSettlement, Run: retryLimitReached},
		{Name: "retry-never-retry-reason", Title: "a rejection that must never be retried (TITULARIDADE_INCONSISTENTE): no retry, on both sides",
			Module: module("wrong-creditor"), Needs: NeedPayer | NeedTime | NeedSettlement, Run: retryNeverRetryReason},
	}
}

// module is the id of a test module of the Pix Automático conformance
// plans (v2.2) whose flow a journey follows.
func module(name string) string {
	return "automatic-payments_api_automatic-pix-" + name + "_test-module_v2-2"
}

// adhesionNoFirstPayment: consent, authorisation, a recurrence scheduled
// for referenceStartDate (SCHD, AUTO, R/<start>/P1M), settled on its date.
func adhesionNoFirstPayment(ctx context.Context, e *Env) error {
	s := e.session()
	ref := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(ref))); err != nil {
		return err
	}
	if err := e.Step(ctx, "the consent has no first payment", func(context.Context) error {
		return expect(s.c.Automatic() != nil && s.c.Automatic().FirstPayment == nil, "the consent carries a firstPayment")
	}); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, ref, "150.00")
	if err != nil {
		return err
	}
	if p, err = s.scheduled(ctx, p, 0); err != nil {
		return err
	}
	return s.settles(ctx, p)
}

// adhesionImmediateFirstPayment: a consent with a first payment today; the
// first payment ("zero", MANU) settles at once, then the first cycle's
// recurrence is scheduled and settles.
func adhesionImmediateFirstPayment(ctx context.Context, e *Env) error {
	s := e.session()
	today := e.Today()
	ref := today.AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(ref), e.withFirstPayment(today, "49.90"))); err != nil {
		return err
	}
	fp, err := s.firstPayment(ctx, fmt.Sprintf("pay the first payment now: R$ 49.90 dated %s (MANU, \"zero\")", today))
	if err != nil {
		return err
	}
	if err := e.Step(ctx, fmt.Sprintf("the first payment %s settles at once (ACSC)", fp.ID), func(ctx context.Context) error {
		got, err := s.await(ctx, fp.ID, payments.StatusACSC)
		if err != nil {
			return err
		}
		return checks(equal("its amount", got.Amount, consent.MustAmount("49.90")), equal("its date", got.Date, today))
	}); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, ref, "150.00")
	if err != nil {
		return err
	}
	if p, err = s.scheduled(ctx, p, 0); err != nil {
		return err
	}
	return s.settles(ctx, p)
}

// adhesionScheduledFirstPayment: a first payment dated in four days is
// SCHD with a scheduled endToEndId, stays so the day before, and settles on
// its date.
func adhesionScheduledFirstPayment(ctx context.Context, e *Env) error {
	s := e.session()
	today := e.Today()
	fpDate := today.AddDays(4)
	req := e.consentRequest(withReferenceStart(today.AddDays(10)), e.withFirstPayment(fpDate, "49.90"))
	if err := s.authorise(ctx, req); err != nil {
		return err
	}
	fp, err := s.firstPayment(ctx, fmt.Sprintf("schedule the first payment: R$ 49.90 dated %s (MANU, \"zero\")", fpDate))
	if err != nil {
		return err
	}
	if err := e.Step(ctx, fmt.Sprintf("the bank schedules the first payment %s (SCHD) with a scheduled endToEndId", fp.ID), func(ctx context.Context) error {
		got, err := s.await(ctx, fp.ID, payments.StatusSCHD)
		if err != nil {
			return err
		}
		e2e, err := payments.ParseE2EID(got.EndToEndID)
		if err != nil {
			return failf("its endToEndId %q: %v", got.EndToEndID, err)
		}
		return checks(
			equal("its date", got.Date, fpDate),
			expect(e2e.IsScheduled(), "its endToEndId %s is not that of a scheduled payment (15:00 UTC)", got.EndToEndID),
			equal("its endToEndId's date", e2e.Date(), fpDate),
		)
	}); err != nil {
		return err
	}
	if e.Time == nil {
		e.SkipStep(fmt.Sprintf("the first payment settles on %s, not before", fpDate), e.Missing(NeedTime))
		return nil
	}
	if err := e.Step(ctx, fmt.Sprintf("on %s at 23:00 it is still SCHD", fpDate.AddDays(-1)), func(ctx context.Context) error {
		if err := e.advanceTo(at(fpDate.AddDays(-1), 23, 0)); err != nil {
			return err
		}
		return s.status(ctx, fp.ID, payments.StatusSCHD, "")
	}); err != nil {
		return err
	}
	return s.settles(ctx, fp)
}

// riskSignals are the payer's device signals sent with an edition.
func riskSignals() *consent.RiskSignals {
	return &consent.RiskSignals{DeviceID: "pixauto-journey", OsVersion: "17.4", UserTimeZoneOffset: "-03", Language: "pt-BR",
		ScreenDimensions: consent.ScreenDimensions{Height: 844, Width: 390}, AccountTenure: consent.NewDate(2020, 1, 15)}
}

// edit: the maximum goes from R$ 300.00 to R$ 500.00, the unchanged expiry
// is kept, and a payment of R$ 400.00 is then accepted.
func edit(ctx context.Context, e *Env) error {
	s := e.session()
	ref := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(ref))); err != nil {
		return err
	}
	before := s.c
	newMax := consent.MustAmount("500.00")
	check := func(what string, c *consent.Consent) error {
		a := c.Automatic()
		if a == nil {
			return failf("%s: not a Pix Automático consent", what)
		}
		return checks(
			equal(what+": status", c.Status, consent.StatusAuthorised),
			expect(a.MaximumVariableAmount != nil && *a.MaximumVariableAmount == newMax, "%s: maximumVariableAmount is %v, want %s", what, amount(a.MaximumVariableAmount), newMax),
			expect(sameExpiry(c.ExpirationDateTime, before.ExpirationDateTime), "%s: the unchanged expiry moved from %v to %v", what, before.ExpirationDateTime, c.ExpirationDateTime),
			expect(c.UpdatedAtDateTime != nil, "%s: no updatedAtDateTime after an edition", what),
		)
	}
	if err := e.Step(ctx, "raise the maximum to R$ 500.00 (PATCH /recurring-consents, edition)", func(ctx context.Context) error {
		req, err := consent.NewEdit(s.c, consent.EditChange{MaximumVariableAmount: consent.SetMaximum(newMax)},
			consent.NewLoggedUser(e.Parties.PayerCPF), riskSignals(), e.Now())
		if err != nil {
			return err
		}
		c, err := e.Consents.Edit(ctx, s.c.RecurringConsentID, req, fapi.NewIdempotencyKey(nil))
		if err != nil {
			return err
		}
		return check("the edited consent", c)
	}); err != nil {
		return err
	}
	if err := e.Step(ctx, "read it back: the new maximum, the same expiry", func(ctx context.Context) error {
		if err := s.refresh(ctx); err != nil {
			return err
		}
		return check("the consent read back", s.c)
	}); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, ref, "400.00")
	if err != nil {
		return err
	}
	_, err = s.scheduled(ctx, p, 0)
	return err
}

func amount(a *consent.Amount) any {
	if a == nil {
		return "none"
	}
	return *a
}

func sameExpiry(a, b *consent.DateTime) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b.Time)
}

// revoke: the receiver revokes the consent through the ITP; its scheduled
// payment is cancelled, and a second revocation is refused before it
// leaves.
func revoke(ctx context.Context, e *Env) error {
	s := e.session()
	ref := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(ref))); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, ref, "150.00")
	if err != nil {
		return err
	}
	if p, err = s.scheduled(ctx, p, 0); err != nil {
		return err
	}
	if err := e.Step(ctx, "revoke the consent: REVOGADO_RECEBEDOR (PATCH /recurring-consents)", func(ctx context.Context) error {
		r, err := consent.NewRevocation(s.c, consent.ByIniciadora, consent.FromIniciadora, consent.RevocationRecebedor, "fim do contrato")
		if err != nil {
			return err
		}
		c, err := e.Consents.Revoke(ctx, s.c.RecurringConsentID, r, fapi.NewIdempotencyKey(nil))
		if err != nil {
			return err
		}
		s.c = c
		if err := equal("the consent's status", c.Status, consent.StatusRevoked); err != nil {
			return err
		}
		if c.Revocation == nil {
			return failf("the REVOKED consent carries no revocation")
		}
		return checks(
			equal("the revocation's reason", c.Revocation.Reason.Code, consent.RevocationRecebedor),
			equal("revokedBy", c.Revocation.RevokedBy, consent.ByIniciadora),
		)
	}); err != nil {
		return err
	}
	if err := e.Step(ctx, fmt.Sprintf("the scheduled payment %s is cancelled", p.ID), func(ctx context.Context) error {
		got, err := s.awaitFinal(ctx, p.ID)
		if err != nil {
			return err
		}
		if v := e.Payments.Version(); v != payments.V220 {
			// Before 2.2.0 a revoked consent's payments are rejected.
			return checks(equal("its status", got.Status, payments.StatusRJCT), equal("its rejection code", got.RejectionCode(), payments.RejectionConsentimentoRevogado))
		}
		if err := equal("its status", got.Status, payments.StatusCANC); err != nil {
			return err
		}
		if got.Cancellation == nil {
			return failf("the CANC payment carries no cancellation")
		}
		return equal("its cancellation reason", got.Cancellation.Reason, payments.CancelledScheduled)
	}); err != nil {
		return err
	}
	return e.Step(ctx, "a second revocation is refused before it leaves", func(context.Context) error {
		_, err := consent.NewRevocation(s.c, consent.ByIniciadora, consent.FromIniciadora, consent.RevocationRecebedor, "de novo")
		return expect(errors.Is(err, consent.ErrInvalidState), "the SDK built a revocation of a REVOKED consent (%v)", err)
	})
}

// reject: the ITP rejects a consent the payer has not authorised yet.
func reject(ctx context.Context, e *Env) error {
	s := e.session()
	if _, err := s.create(ctx, e.consentRequest()); err != nil {
		return err
	}
	check := func(what string, c *consent.Consent) error {
		if err := equal(what+": status", c.Status, consent.StatusRejected); err != nil {
			return err
		}
		if c.Rejection == nil {
			return failf("%s: a REJECTED consent without its rejection", what)
		}
		return checks(
			equal(what+": rejection reason", c.Rejection.Reason.Code, consent.RejectionNaoInformado),
			equal(what+": rejectedBy", c.Rejection.RejectedBy, consent.ByIniciadora),
			equal(what+": rejectedFrom", c.Rejection.RejectedFrom, consent.FromIniciadora),
		)
	}
	if err := e.Step(ctx, "reject it before authorisation: NAO_INFORMADO (PATCH /recurring-consents)", func(ctx context.Context) error {
		r, err := consent.NewRejection(s.c, consent.ByIniciadora, consent.FromIniciadora, consent.RejectionNaoInformado, "o recebedor retirou a oferta")
		if err != nil {
			return err
		}
		c, err := e.Consents.Reject(ctx, s.c.RecurringConsentID, r, fapi.NewIdempotencyKey(nil))
		if err != nil {
			return err
		}
		return check("the rejected consent", c)
	}); err != nil {
		return err
	}
	if err := e.Step(ctx, "read it back: REJECTED", func(ctx context.Context) error {
		if err := s.refresh(ctx); err != nil {
			return err
		}
		return check("the consent read back", s.c)
	}); err != nil {
		return err
	}
	return e.Step(ctx, "a second rejection is refused before it leaves", func(context.Context) error {
		_, err := consent.NewRejection(s.c, consent.ByIniciadora, consent.FromIniciadora, consent.RejectionNaoInformado, "de novo")
		return expect(errors.Is(err, consent.ErrInvalidState), "the SDK built a rejection of a REJECTED consent (%v)", err)
	})
}

// cancel: the receiver cancels a scheduled payment; it is never attempted,
// and a second cancellation is refused before it leaves.
func cancel(ctx context.Context, e *Env) error {
	s := e.session()
	ref := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(ref))); err != nil {
		return err
	}
	due := ref.AddDays(2)
	p, err := s.charge(ctx, 0, due, "150.00")
	if err != nil {
		return err
	}
	if p, err = s.scheduled(ctx, p, 0); err != nil {
		return err
	}
	check := func(what string, got *payments.Payment) error {
		if err := equal(what+": status", got.Status, payments.StatusCANC); err != nil {
			return err
		}
		if got.Cancellation == nil {
			return failf("%s: a CANC payment without its cancellation", what)
		}
		return checks(
			equal(what+": cancellation reason", got.Cancellation.Reason, payments.CancelledScheduled),
			equal(what+": cancelledBy", got.Cancellation.CancelledBy, s.receiver()),
			equal(what+": cancelledFrom", got.Cancellation.CancelledFrom, consent.FromIniciadora),
		)
	}
	if err := e.Step(ctx, fmt.Sprintf("the receiver cancels payment %s (PATCH /pix/recurring-payments)", p.ID), func(ctx context.Context) error {
		got, err := e.Payments.Cancel(ctx, payments.CancelParams{Payment: p, Consent: s.c, CancelledBy: s.receiver(), IdempotencyKey: fapi.NewIdempotencyKey(nil)})
		if err != nil {
			return err
		}
		p = got
		return check("the cancelled payment", got)
	}); err != nil {
		return err
	}
	if err := e.Step(ctx, "a second cancellation is refused before it leaves", func(ctx context.Context) error {
		_, err := e.Payments.Cancel(ctx, payments.CancelParams{Payment: p, Consent: s.c, CancelledBy: s.receiver(), IdempotencyKey: fapi.NewIdempotencyKey(nil)})
		return checks(
			expect(errors.Is(err, payments.ErrNotCancellable), "the SDK answered %v, want %v", err, payments.ErrNotCancellable),
			noCall(ctx, http.MethodPatch, "/"+p.ID),
		)
	}); err != nil {
		return err
	}
	name := fmt.Sprintf("on %s the cancelled payment is not attempted (still CANC)", due)
	if e.Time == nil {
		e.SkipStep(name, e.Missing(NeedTime))
		return nil
	}
	return e.Step(ctx, name, func(ctx context.Context) error {
		if err := e.advanceTo(at(due, 22, 0)); err != nil {
			return err
		}
		got, err := e.Payments.Get(ctx, p.ID)
		if err != nil {
			return err
		}
		return check("the payment on its date", got)
	})
}

// retryIntraday: PAGAMENTO_RECUSADO_SPI in the morning; the SDK retries
// the same day with a new endToEndId before 12:00, and the retry settles in
// the evening window.
func retryIntraday(ctx context.Context, e *Env) error {
	s := e.session()
	due := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(due))); err != nil {
		return err
	}
	if err := s.script(ctx, "SPI refuses the morning attempt (PAGAMENTO_RECUSADO_SPI)",
		sandbox.Reject(payments.RejectionPagamentoRecusadoSPI).In(sandbox.Morning)); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, due, "150.00")
	if err != nil {
		return err
	}
	if err := e.Step(ctx, fmt.Sprintf("on %s at 09:00 the payment is RJCT: PAGAMENTO_RECUSADO_SPI", due), func(ctx context.Context) error {
		if err := e.advanceTo(at(due, 9, 0)); err != nil {
			return err
		}
		return s.status(ctx, p.ID, payments.StatusRJCT, payments.RejectionPagamentoRecusadoSPI)
	}); err != nil {
		return err
	}
	rt, err := step(ctx, e, "retry it the same day before 12:00, with a new endToEndId (POST …/retry)", func(ctx context.Context) (*payments.Payment, error) {
		rt, err := s.retry(ctx, p.ID, payments.RetryIntraday)
		if err != nil {
			return nil, err
		}
		return rt, equal("the intraday retry's date", rt.Date, due)
	})
	if err != nil {
		return err
	}
	if err := e.Step(ctx, fmt.Sprintf("the retry %s is SCHD before 12:00", rt.ID), func(ctx context.Context) error {
		if _, err := s.await(ctx, rt.ID, payments.StatusSCHD); err != nil {
			return err
		}
		return expect(e.Now().Before(at(due, 12, 0)), "the retry was scheduled only at %s", e.Now().In(consent.Brasilia).Format("15:04"))
	}); err != nil {
		return err
	}
	if err := e.Step(ctx, "the retry settles in the evening window (ACSC)", func(ctx context.Context) error {
		if err := e.advanceTo(at(due, 18, 30)); err != nil {
			return err
		}
		return s.status(ctx, rt.ID, payments.StatusACSC, "")
	}); err != nil {
		return err
	}
	return e.Step(ctx, "the recurrence is done: the original and one retry", func(ctx context.Context) error {
		ch, _, err := s.decide(ctx, p.ID, payments.Done)
		if err != nil {
			return err
		}
		return equal("the number of attempts", len(ch.Attempts), 2)
	})
}

// retryNextDay: insufficient funds in both of the day's windows; the SDK
// waits for the bank's evening attempt, then retries dated D+1, which
// settles.
func retryNextDay(ctx context.Context, e *Env) error {
	s := e.session()
	due := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(due))); err != nil {
		return err
	}
	if err := s.script(ctx, "insufficient funds in the morning and in the evening",
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, due, "150.00")
	if err != nil {
		return err
	}
	if err := e.Step(ctx, "after the morning failure the SDK waits for the bank's evening attempt", func(ctx context.Context) error {
		if err := e.advanceTo(at(due, 9, 0)); err != nil {
			return err
		}
		if err := s.status(ctx, p.ID, payments.StatusSCHD, ""); err != nil {
			return err
		}
		_, _, err := s.decide(ctx, p.ID, payments.Wait)
		return err
	}); err != nil {
		return err
	}
	if err := e.Step(ctx, "the evening attempt fails too: RJCT, SALDO_INSUFICIENTE", func(ctx context.Context) error {
		if err := e.advanceTo(at(due, 21, 30)); err != nil {
			return err
		}
		return s.status(ctx, p.ID, payments.StatusRJCT, payments.RejectionSaldoInsuficiente)
	}); err != nil {
		return err
	}
	rt, err := step(ctx, e, fmt.Sprintf("retry it dated %s (POST …/retry)", due.AddDays(1)), func(ctx context.Context) (*payments.Payment, error) {
		rt, err := s.retry(ctx, p.ID, payments.RetryNextDay)
		if err != nil {
			return nil, err
		}
		return rt, equal("the retry's date", rt.Date, due.AddDays(1))
	})
	if err != nil {
		return err
	}
	if err := e.Step(ctx, fmt.Sprintf("the retry %s is SCHD", rt.ID), func(ctx context.Context) error {
		_, err := s.await(ctx, rt.ID, payments.StatusSCHD)
		return err
	}); err != nil {
		return err
	}
	return s.settles(ctx, rt)
}

// retryLimitReached: every attempt fails; after three next-day retries the
// SDK gives up, refuses a fourth before it leaves, and the bank, sent it
// anyway, answers LIMITE_TENTATIVAS_EXCEDIDO.
func retryLimitReached(ctx context.Context, e *Env) error {
	s := e.session()
	due := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(due))); err != nil {
		return err
	}
	fails := make([]sandbox.Outcome, 2*(1+payments.MaxExtradayRetries))
	for i := range fails {
		fails[i] = sandbox.Reject(payments.RejectionSaldoInsuficiente)
	}
	if err := s.script(ctx, fmt.Sprintf("insufficient funds at all %d attempts", len(fails)), fails...); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, due, "150.00")
	if err != nil {
		return err
	}
	day := due
	for i := 1; i <= payments.MaxExtradayRetries; i++ {
		err := e.Step(ctx, fmt.Sprintf("the attempt of %s fails twice; retry %d of %d dated %s", day, i, payments.MaxExtradayRetries, day.AddDays(1)), func(ctx context.Context) error {
			if err := e.advanceTo(at(day, 21, 30)); err != nil {
				return err
			}
			rt, err := s.retry(ctx, p.ID, payments.RetryNextDay)
			if err != nil {
				return err
			}
			day = rt.Date
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := e.Step(ctx, "the last retry fails too: the SDK gives up (retry_limit)", func(ctx context.Context) error {
		if err := e.advanceTo(at(day, 21, 30)); err != nil {
			return err
		}
		_, d, err := s.decide(ctx, p.ID, payments.GiveUp)
		if err != nil {
			return err
		}
		return checks(equal("the reason", d.Reason, payments.ReasonRetryLimit), equal("the retries used", d.RetriesUsed, payments.MaxExtradayRetries))
	}); err != nil {
		return err
	}
	forced, err := s.forcedRetry(p.ID, day.AddDays(1))
	if err != nil {
		return err
	}
	if err := e.Step(ctx, "a fourth retry is refused before it leaves", func(ctx context.Context) error {
		return s.refusedRetry(ctx, forced, payments.ErrRetryLimit)
	}); err != nil {
		return err
	}
	return e.Step(ctx, "sent anyway, the bank refuses it: 422 LIMITE_TENTATIVAS_EXCEDIDO", func(ctx context.Context) error {
		return isAPIError(s.sendRetry(ctx, forced), http.StatusUnprocessableEntity, "LIMITE_TENTATIVAS_EXCEDIDO")
	})
}

// retryNeverRetryReason: the attempt is rejected with
// TITULARIDADE_INCONSISTENTE; the SDK gives up, refuses a retry before it
// leaves, and the bank, sent one anyway, answers
// PAGAMENTO_RECUSADO_DETENTORA.
func retryNeverRetryReason(ctx context.Context, e *Env) error {
	s := e.session()
	due := e.Today().AddDays(3)
	if err := s.authorise(ctx, e.consentRequest(withReferenceStart(due))); err != nil {
		return err
	}
	if err := s.script(ctx, "SPI finds the account is not the receiver's (TITULARIDADE_INCONSISTENTE)",
		sandbox.Reject(payments.RejectionTitularidadeInconsistente)); err != nil {
		return err
	}
	p, err := s.charge(ctx, 0, due, "150.00")
	if err != nil {
		return err
	}
	if err := e.Step(ctx, fmt.Sprintf("on %s at 09:00 the payment is RJCT: TITULARIDADE_INCONSISTENTE", due), func(ctx context.Context) error {
		if err := e.advanceTo(at(due, 9, 0)); err != nil {
			return err
		}
		return s.status(ctx, p.ID, payments.StatusRJCT, payments.RejectionTitularidadeInconsistente)
	}); err != nil {
		return err
	}
	if err := e.Step(ctx, "the SDK gives up: the reason is never retried", func(ctx context.Context) error {
		_, d, err := s.decide(ctx, p.ID, payments.GiveUp)
		if err != nil {
			return err
		}
		return equal("the reason", d.Reason, payments.ReasonNeverRetry)
	}); err != nil {
		return err
	}
	forced, err := s.forcedRetry(p.ID, due.AddDays(1))
	if err != nil {
		return err
	}
	if err := e.Step(ctx, "a retry is refused before it leaves", func(ctx context.Context) error {
		return s.refusedRetry(ctx, forced, payments.ErrNotRetryable)
	}); err != nil {
		return err
	}
	return e.Step(ctx, "sent anyway, the bank refuses it: 422 PAGAMENTO_RECUSADO_DETENTORA", func(ctx context.Context) error {
		return isAPIError(s.sendRetry(ctx, forced), http.StatusUnprocessableEntity, "PAGAMENTO_RECUSADO_DETENTORA")
	})
}
