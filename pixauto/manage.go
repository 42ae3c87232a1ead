package pixauto

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"golang.org/x/oauth2"
)

// Cancel cancels a charge's scheduled attempt on behalf of the receiver
// (by = the receiver's CNPJ) or the payer (by = the payer's document), within
// the spec's deadlines.
func (in *Initiator) Cancel(ctx context.Context, chargeID string, by consent.Document) (*ChargeRecord, error) {
	ch, err := in.store.GetCharge(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	if ch.Status.Final() {
		return nil, fmt.Errorf("%w: charge %s is %s", ErrChargeState, ch.ID, ch.Status)
	}
	attempts, err := in.store.ListAttempts(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	last := attempts[len(attempts)-1]
	if last.State == AttemptPlanned {
		// Nothing at the bank yet: the attempt is withdrawn locally.
		last.State, last.UpdatedAt = AttemptRefused, in.now()
		if err := in.store.UpdateAttempt(ctx, last); err != nil {
			return nil, err
		}
		if err := in.setCharge(ctx, chargeID, ChargeCancelled, ""); err != nil {
			return nil, err
		}
		return in.store.GetCharge(ctx, chargeID)
	}
	rec, h, err := in.consentAndHolder(ctx, ch.ConsentID)
	if err != nil {
		return nil, err
	}
	if last.PaymentID == "" {
		return nil, fmt.Errorf("%w: charge %s is being submitted; try again after it is", ErrChargeState, ch.ID)
	}
	p, err := h.payments.Get(ctx, last.PaymentID)
	if err != nil {
		return nil, err
	}
	p, err = h.payments.Cancel(ctx, payments.CancelParams{Payment: p, Consent: rec.Consent, CancelledBy: by, IdempotencyKey: in.newID()})
	if err != nil {
		return nil, err
	}
	in.applyStatus(last, p)
	last.UpdatedAt = in.now()
	if err := in.store.UpdateAttempt(ctx, last); err != nil {
		return nil, err
	}
	if err := in.chargeFromAttempt(ctx, last); err != nil {
		return nil, err
	}
	return in.store.GetCharge(ctx, chargeID)
}

// Edit changes an AUTHORISED consent: a new maximum variable amount (the
// payer, present), a new expiry, or a new creditor name; see
// consent.NewEdit. user and signals describe the payer's session; they may
// be nil for a name-only edit.
func (in *Initiator) Edit(ctx context.Context, consentID string, change consent.EditChange, user *consent.LoggedUser, signals *consent.RiskSignals) (*ConsentRecord, error) {
	rec, h, err := in.consentAndHolder(ctx, consentID)
	if err != nil {
		return nil, err
	}
	var u consent.LoggedUser
	if user != nil {
		u = *user
	}
	e, err := consent.NewEdit(rec.Consent, change, u, signals, in.now())
	if err != nil {
		return nil, err
	}
	c, err := h.consents.Edit(ctx, consentID, e, in.newID())
	if err != nil {
		return nil, err
	}
	rec, err = in.storeConsent(ctx, rec, c)
	if err != nil {
		return nil, err
	}
	in.emit(Event{Type: EventConsentUpdated, ReceiverID: rec.ReceiverID, ConsentID: rec.ID, ConsentStatus: rec.Status})
	return rec, in.syncConsentCharges(ctx, consentID) // a shorter expiry cancels later payments
}

// Revoke revokes an AUTHORISED consent for the receiver (REVOGADO_RECEBEDOR)
// or the payer (REVOGADO_USUARIO), then re-reads its charges, which the bank
// cancels.
func (in *Initiator) Revoke(ctx context.Context, consentID string, code consent.RevocationCode, detail string) (*ConsentRecord, error) {
	rec, h, err := in.consentAndHolder(ctx, consentID)
	if err != nil {
		return nil, err
	}
	by := consent.ByIniciadora
	if code == consent.RevocationUsuario {
		by = consent.ByUsuario
	}
	r, err := consent.NewRevocation(rec.Consent, by, consent.FromIniciadora, code, detail)
	if err != nil {
		return nil, err
	}
	c, err := h.consents.Revoke(ctx, consentID, r, in.newID())
	if err != nil {
		return nil, err
	}
	if rec, err = in.storeConsent(ctx, rec, c); err != nil {
		return nil, err
	}
	return rec, in.syncConsentCharges(ctx, consentID)
}

// syncConsentCharges re-reads every live charge of a consent; when the
// consent can no longer pay, the charges not yet sent are withdrawn.
func (in *Initiator) syncConsentCharges(ctx context.Context, consentID string) error {
	var ids []string
	for ch, err := range in.store.ListCharges(ctx, ChargeFilter{ConsentID: consentID}) {
		if err != nil {
			return err
		}
		if !ch.Status.Final() {
			ids = append(ids, ch.ID)
		}
	}
	rec, err := in.store.GetConsent(ctx, consentID)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if rec.Status.Final() {
			if err := in.withdrawPlanned(ctx, id); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := in.followCharge(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// withdrawPlanned cancels a charge whose latest attempt was never sent:
// nothing exists at the bank, so nothing needs to be asked of it.
func (in *Initiator) withdrawPlanned(ctx context.Context, chargeID string) error {
	attempts, err := in.store.ListAttempts(ctx, chargeID)
	if err != nil || len(attempts) == 0 {
		return err
	}
	last := attempts[len(attempts)-1]
	if last.State != AttemptPlanned {
		return nil
	}
	last.State, last.UpdatedAt = AttemptRefused, in.now()
	if err := in.store.UpdateAttempt(ctx, last); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil // a sender claimed it first; following it settles the charge
		}
		return err
	}
	return in.setCharge(ctx, chargeID, ChargeCancelled, "")
}

func (in *Initiator) consentAndHolder(ctx context.Context, consentID string) (*ConsentRecord, *holder, error) {
	rec, err := in.store.GetConsent(ctx, consentID)
	if err != nil {
		return nil, nil, err
	}
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return nil, nil, err
	}
	return rec, h, nil
}

// GetConsent returns a stored consent.
func (in *Initiator) GetConsent(ctx context.Context, id string) (*ConsentRecord, error) {
	return in.store.GetConsent(ctx, id)
}

// GetCharge returns a stored charge.
func (in *Initiator) GetCharge(ctx context.Context, id string) (*ChargeRecord, error) {
	return in.store.GetCharge(ctx, id)
}

// Attempts returns a charge's attempts, original first.
func (in *Initiator) Attempts(ctx context.Context, chargeID string) ([]*AttemptRecord, error) {
	return in.store.ListAttempts(ctx, chargeID)
}

// ListConsents streams stored consents (by receiver, bank, status).
func (in *Initiator) ListConsents(ctx context.Context, f ConsentFilter) iter.Seq2[*ConsentRecord, error] {
	return in.store.ListConsents(ctx, f)
}

// ListCharges streams stored charges (by receiver, consent, status, dates).
func (in *Initiator) ListCharges(ctx context.Context, f ChargeFilter) iter.Seq2[*ChargeRecord, error] {
	return in.store.ListCharges(ctx, f)
}

// tokenCache keeps the live token source of each consent, so consecutive
// payments reuse an access token instead of refreshing every time. It is
// bounded: past its size, an arbitrary half is dropped (a dropped source
// costs one refresh).
type tokenCache struct {
	mu sync.Mutex
	m  map[string]fapi.TokenSource
}

const maxCachedTokens = 10000

func (in *Initiator) consentToken(h *holder, consentID string) fapi.TokenSource {
	in.tokens.mu.Lock()
	defer in.tokens.mu.Unlock()
	key := h.ID + "\x00" + consentID
	if ts, ok := in.tokens.m[key]; ok {
		return ts
	}
	ts := h.FAPI.ConsentTokenSource(consentID, refreshTokenStore{in}, nil)
	in.tokens.put(key, ts)
	return ts
}

func (in *Initiator) cacheToken(h *holder, consentID string, tok *oauth2.Token) {
	in.tokens.mu.Lock()
	defer in.tokens.mu.Unlock()
	in.tokens.put(h.ID+"\x00"+consentID, h.FAPI.ConsentTokenSource(consentID, refreshTokenStore{in}, tok))
}

func (t *tokenCache) put(key string, ts fapi.TokenSource) {
	if t.m == nil {
		t.m = map[string]fapi.TokenSource{}
	}
	if len(t.m) >= maxCachedTokens {
		n := 0
		for k := range t.m {
			delete(t.m, k)
			if n++; n >= maxCachedTokens/2 {
				break
			}
		}
	}
	t.m[key] = ts
}
