package pixauto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
)

// EnrolRequest asks for a new Pix Automático agreement.
type EnrolRequest struct {
	// ReceiverID is the receiver the consent pays. Required.
	ReceiverID string
	// HolderID is the payer's bank. Required.
	HolderID string
	// Consent is the consent to create (see consent.NewCreateRequest).
	// Required.
	Consent *consent.CreateRequest
	// IdempotencyKey makes Enrol safe to repeat: the same key creates the
	// consent once. Empty means a fresh key.
	IdempotencyKey string
}

// Enrolment is a consent waiting for the payer.
type Enrolment struct {
	ConsentID string
	// RedirectURL is where to send the payer (the bank's authorization
	// endpoint, carrying only client_id and request_uri).
	RedirectURL string
	// State identifies the authorization; the callback carries it.
	State     string
	ExpiresAt time.Time
}

// Enrol creates the consent at the bank, stores it, pushes the
// authorization request and returns the URL to send the payer to.
func (in *Initiator) Enrol(ctx context.Context, r EnrolRequest) (*Enrolment, error) {
	if r.ReceiverID == "" {
		return nil, errors.New("pixauto: EnrolRequest.ReceiverID is required")
	}
	h, err := in.holder(r.HolderID)
	if err != nil {
		return nil, err
	}
	key := r.IdempotencyKey
	if key == "" {
		key = in.newID()
	}
	c, err := h.consents.Create(ctx, r.Consent, key)
	if err != nil {
		return nil, err
	}
	now := in.now()
	rec := &ConsentRecord{
		ID: c.RecurringConsentID, ReceiverID: r.ReceiverID, HolderID: h.ID, Status: c.Status, Consent: c,
		IdempotencyKey: key, NextCheckAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
	}
	if err := in.store.InsertConsent(ctx, rec); err != nil && !errors.Is(err, ErrConflict) {
		return nil, err // ErrConflict: a repeated Enrol with the same key; the consent is stored
	}
	in.emit(Event{Type: EventConsentCreated, ReceiverID: r.ReceiverID, ConsentID: c.RecurringConsentID, ConsentStatus: c.Status})
	return in.authorize(ctx, h, c.RecurringConsentID)
}

// Reauthorize starts a new authorization of a consent still waiting for the
// payer (for instance when the first redirect URL expired).
func (in *Initiator) Reauthorize(ctx context.Context, consentID string) (*Enrolment, error) {
	rec, err := in.store.GetConsent(ctx, consentID)
	if err != nil {
		return nil, err
	}
	if rec.Status != consent.StatusAwaitingAuthorisation {
		return nil, fmt.Errorf("%w: consent %s is %s", ErrConsentState, consentID, rec.Status)
	}
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return nil, err
	}
	return in.authorize(ctx, h, consentID)
}

func (in *Initiator) authorize(ctx context.Context, h *holder, consentID string) (*Enrolment, error) {
	a, err := h.FAPI.PushAuthorization(ctx, fapi.RecurringConsentScopes(consentID), nil)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	sealed, err := in.seal.seal(plain, "authorization:"+a.State)
	if err != nil {
		return nil, err
	}
	// The callback may come after the request_uri expired at the bank; keep
	// the record for the payer's whole window at the bank (60 minutes).
	rec := &AuthorizationRecord{State: a.State, ConsentID: consentID, HolderID: h.ID, Sealed: sealed, ExpiresAt: in.now().Add(time.Hour), CreatedAt: in.now()}
	if err := in.store.PutAuthorization(ctx, rec); err != nil {
		return nil, err
	}
	return &Enrolment{ConsentID: consentID, RedirectURL: a.URL, State: a.State, ExpiresAt: a.ExpiresAt}, nil
}

// ErrConsentState: the consent's status does not allow the operation.
var ErrConsentState = errors.New("pixauto: consent status does not allow this")

// ErrUnknownAuthorization: the callback's state matches no authorization in
// progress (already used, expired, or forged).
var ErrUnknownAuthorization = errors.New("pixauto: no authorization in progress with that state")

// Complete finishes an authorization from the callback (the redirect URL
// or its fragment, as the payer's browser posts it): it checks the response
// and its id_token, exchanges the code, stores the refresh token (sealed),
// reads the consent, and — for the adhesion journeys with a first payment —
// creates and submits the first payment. It returns the consent as stored.
func (in *Initiator) Complete(ctx context.Context, callback string) (*ConsentRecord, error) {
	cb, err := fapi.ParseCallback(callback)
	if err != nil {
		return nil, err
	}
	ar, err := in.store.TakeAuthorization(ctx, cb.State)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnknownAuthorization
	}
	if err != nil {
		return nil, err
	}
	if in.now().After(ar.ExpiresAt) {
		return nil, fmt.Errorf("%w: it expired at %s", ErrUnknownAuthorization, ar.ExpiresAt.Format(time.RFC3339))
	}
	plain, err := in.seal.open(ar.Sealed, "authorization:"+ar.State)
	if err != nil {
		return nil, err
	}
	var a fapi.Authorization
	if err := json.Unmarshal(plain, &a); err != nil {
		return nil, fmt.Errorf("pixauto: stored authorization: %w", err)
	}
	h, err := in.holder(ar.HolderID)
	if err != nil {
		return nil, err
	}
	grant, err := h.FAPI.CompleteAuthorization(ctx, &a, cb)
	if err != nil {
		var oe *fapi.OAuthError
		if errors.As(err, &oe) && oe.Endpoint == "authorize" {
			_, _ = in.SyncConsent(ctx, ar.ConsentID) // the bank records the payer's refusal
		}
		return nil, err
	}
	if grant.Token.RefreshToken != "" {
		if err := (refreshTokenStore{in}).SaveRefreshToken(ctx, ar.ConsentID, grant.Token.RefreshToken); err != nil {
			return nil, err
		}
	}
	in.cacheToken(h, ar.ConsentID, grant.Token)
	rec, err := in.SyncConsent(ctx, ar.ConsentID)
	if err != nil {
		return nil, err
	}
	if rec.Status == consent.StatusAuthorised {
		// Idempotent: the first payment may already have been started by
		// a webhook or a Sync that saw the authorisation first.
		if err := in.startFirstPayment(ctx, rec); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// SyncConsent reads a consent from the bank, stores it, and emits an event
// if its status changed. It is the "check this one now" of reconciliation.
func (in *Initiator) SyncConsent(ctx context.Context, consentID string) (*ConsentRecord, error) {
	rec, err := in.store.GetConsent(ctx, consentID)
	if err != nil {
		return nil, err
	}
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return nil, err
	}
	c, err := h.consents.Get(ctx, consentID)
	if err != nil {
		return nil, err
	}
	was := rec.Status
	if rec, err = in.storeConsent(ctx, rec, c); err != nil {
		return nil, err
	}
	switch {
	case was != consent.StatusAuthorised && rec.Status == consent.StatusAuthorised:
		if err := in.startFirstPayment(ctx, rec); err != nil {
			return rec, err
		}
	case !was.Final() && rec.Status.Final():
		if err := in.syncConsentCharges(ctx, consentID); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// storeConsent saves a fresh read of a consent, retrying once on a
// concurrent update, and emits the status change.
func (in *Initiator) storeConsent(ctx context.Context, rec *ConsentRecord, c *consent.Consent) (*ConsentRecord, error) {
	for range 3 {
		old, edited := rec.Status, editedSince(rec.Consent, c)
		rec.Consent, rec.Status, rec.UpdatedAt = c, c.Status, in.now()
		rec.NextCheckAt = in.nextConsentCheck(c)
		err := in.store.UpdateConsent(ctx, rec)
		if errors.Is(err, ErrConflict) {
			if rec, err = in.store.GetConsent(ctx, rec.ID); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		switch {
		case old != c.Status:
			in.emitConsent(rec)
		case edited:
			in.emit(Event{Type: EventConsentUpdated, ReceiverID: rec.ReceiverID, ConsentID: rec.ID, ConsentStatus: rec.Status})
		}
		return rec, nil
	}
	return nil, fmt.Errorf("%w: consent %s kept changing", ErrConflict, rec.ID)
}

// nextConsentCheck says when a consent should be read again: soon while the
// payer decides, daily while authorised, never once final.
func (in *Initiator) nextConsentCheck(c *consent.Consent) time.Time {
	switch {
	case c.Status.Final():
		return time.Time{}
	case c.Status == consent.StatusAwaitingAuthorisation || c.Status == consent.StatusPartiallyAccepted:
		return in.now().Add(5 * time.Minute)
	default:
		return in.now().Add(24 * time.Hour)
	}
}

func (in *Initiator) emitConsent(rec *ConsentRecord) {
	e := Event{ReceiverID: rec.ReceiverID, ConsentID: rec.ID, ConsentStatus: rec.Status}
	switch rec.Status {
	case consent.StatusAuthorised:
		e.Type = EventConsentAuthorised
	case consent.StatusRejected:
		e.Type, e.Reason = EventConsentRejected, ReasonRejectedByPayer
	case consent.StatusRevoked:
		e.Type, e.Reason = EventConsentRevoked, revocationReason(rec.Consent.Revocation)
	case consent.StatusConsumed:
		e.Type = EventConsentConsumed
	default:
		e.Type = EventConsentUpdated
	}
	in.emit(e)
}

// revocationReason tells the receiver who revoked: the payer, the receiver,
// or neither (the bank or the ITP, for instance on suspicion of fraud).
func revocationReason(rv *consent.Revocation) ReceiverReason {
	switch {
	case rv == nil:
		return ReasonConsentInvalid
	case rv.Reason.Code == consent.RevocationRecebedor:
		return ReasonRevokedByReceiver
	case rv.Reason.Code == consent.RevocationUsuario || rv.RevokedBy == consent.ByUsuario:
		return ReasonRevokedByPayer
	}
	return ReasonConsentInvalid
}

// editedSince reports whether the bank recorded an edit of the consent
// (updatedAtDateTime moved): a change here, or by the payer at the bank.
func editedSince(old, fresh *consent.Consent) bool {
	if old == nil || fresh == nil || fresh.UpdatedAtDateTime == nil {
		return false
	}
	return old.UpdatedAtDateTime == nil || !old.UpdatedAtDateTime.Equal(fresh.UpdatedAtDateTime.Time)
}
