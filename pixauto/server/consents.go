package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

var _ api.StrictServerInterface = (*Server)(nil)

// fields collects the field errors of a request that the specification
// cannot express (a calendar date, an amount in range, a combination).
type fields []api.FieldError

func (f *fields) add(field, msg string) { *f = append(*f, api.FieldError{Field: field, Message: msg}) }

func (f *fields) date(field, s string) consent.Date {
	d, err := consent.ParseDate(s)
	if err != nil {
		f.add(field, "is not a calendar date (YYYY-MM-DD)")
	}
	return d
}

func (f *fields) optDate(field string, s *string) consent.Date {
	if s == nil {
		return consent.Date{}
	}
	return f.date(field, *s)
}

func (f *fields) amount(field, s string) consent.Amount {
	a, err := consent.ParseAmount(s)
	if err != nil || !a.Valid() {
		f.add(field, "must be a positive amount with two decimal places, at most 9999999999999999.99")
	}
	return a
}

func (f *fields) optAmount(field string, s *string) consent.Amount {
	if s == nil {
		return 0
	}
	return f.amount(field, *s)
}

func (f fields) problem() *Problem {
	if len(f) == 0 {
		return nil
	}
	return fieldProblem(http.StatusBadRequest, f)
}

// ownConsent returns a consent of the caller; another receiver's consent
// is not found, exactly like one that does not exist.
func (s *Server) ownConsent(ctx context.Context, id string) (*pixauto.ConsentRecord, error) {
	rec, err := s.in.GetConsent(ctx, id)
	if errors.Is(err, pixauto.ErrNotFound) || (err == nil && rec.ReceiverID != receiverFrom(ctx).ID) {
		return nil, notFound("consent")
	}
	return rec, err
}

// idempotencyNamespace scopes receivers' idempotency keys: the key sent to
// the bank is derived from the receiver and its key, so that two receivers
// using the same key never meet at the bank.
var idempotencyNamespace = uuid.MustParse("6b1f3f0e-8a53-4c4f-9d0e-7f3c2a1b5e90")

// GetReceiver returns the caller.
func (s *Server) GetReceiver(ctx context.Context, _ api.GetReceiverRequestObject) (api.GetReceiverResponseObject, error) {
	r := receiverFrom(ctx)
	v := api.Receiver{
		Id: r.ID, Name: r.Name, Cnpj: r.CNPJ, CreatedAt: apiTime(r.CreatedAt),
		Account: api.Account{Ispb: r.Account.ISPB, Number: r.Account.Number, Type: api.AccountType(r.Account.AccountType), Branch: optString(r.Account.Issuer)},
	}
	return api.GetReceiver200JSONResponse(v), nil
}

// CreateConsent enrols a payer.
func (s *Server) CreateConsent(ctx context.Context, req api.CreateConsentRequestObject) (api.CreateConsentResponseObject, error) {
	rcv, b := receiverFrom(ctx), req.Body
	var f fields
	start := f.date("reference_start_date", b.ReferenceStartDate)
	expires := f.optDate("expires_on", b.ExpiresOn)
	fixed := f.optAmount("fixed_amount", b.FixedAmount)
	maximum := f.optAmount("maximum_amount", b.MaximumAmount)
	minimum := f.optAmount("minimum_amount", b.MinimumAmount)
	holderID := s.cfg.HolderIDs[0]
	switch {
	case b.HolderId != nil:
		holderID = *b.HolderId
		if !containsString(s.cfg.HolderIDs, holderID) {
			f.add("holder_id", "is not a bank of this server")
		}
	case len(s.cfg.HolderIDs) > 1:
		f.add("holder_id", "is required: this server works with several banks")
	}
	debtor := consent.ContractDebtor{Name: b.Payer.Name, Document: consent.DocumentFor(b.Payer.Document)}
	if b.Debtor != nil {
		debtor = consent.ContractDebtor{Name: b.Debtor.Name, Document: consent.DocumentFor(b.Debtor.Document)}
	}
	auto := &consent.Automatic{
		ContractID: b.ContractId, Interval: intervalFromAPI(b.Interval), ReferenceStartDate: start, ContractDebtor: debtor,
		IsRetryAccepted: b.RetriesAccepted != nil && *b.RetriesAccepted,
	}
	if fixed != 0 {
		auto.FixedAmount = &fixed
	}
	if maximum != 0 {
		auto.MaximumVariableAmount = &maximum
	}
	if minimum != 0 {
		auto.MinimumVariableAmount = &minimum
	}
	if fp := b.FirstPayment; fp != nil {
		date, amount, desc := f.date("first_payment.date", fp.Date), f.amount("first_payment.amount", fp.Amount), ""
		if fp.Description != nil {
			desc = *fp.Description
		}
		consent.WithFirstPayment(date, amount, rcv.Account, desc)(auto)
	}
	if p := f.problem(); p != nil {
		return nil, p
	}
	creq := consent.NewCreateRequest(consent.NewLoggedUser(b.Payer.Document), consent.NewCreditor(rcv.CNPJ, rcv.Name), auto)
	if !expires.IsZero() {
		consent.WithExpiration(expires)(creq)
	}
	key := ""
	if req.Params.IdempotencyKey != nil {
		key = uuid.NewSHA1(idempotencyNamespace, []byte(rcv.ID+"\x00"+*req.Params.IdempotencyKey)).String()
	}
	en, err := s.in.Enrol(ctx, pixauto.EnrolRequest{ReceiverID: rcv.ID, HolderID: holderID, Consent: creq, IdempotencyKey: key})
	if err != nil {
		return nil, err
	}
	rec, err := s.in.GetConsent(ctx, en.ConsentID)
	if err != nil {
		return nil, err
	}
	if rec.ReceiverID != rcv.ID {
		return nil, problem(http.StatusConflict, CodeConflict, "The bank answered with a consent that is not yours; use another Idempotency-Key.")
	}
	return api.CreateConsent201JSONResponse(api.Enrolment{Consent: consentView(rec), RedirectUrl: en.RedirectURL, RedirectExpiresAt: apiTime(en.ExpiresAt)}), nil
}

func containsString(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// ListConsents pages through the caller's consents.
func (s *Server) ListConsents(ctx context.Context, req api.ListConsentsRequestObject) (api.ListConsentsResponseObject, error) {
	after, p := decodeCursor(req.Params.Cursor)
	if p != nil {
		return nil, p
	}
	limit := pageLimit(req.Params.Limit)
	filter := pixauto.ConsentFilter{ReceiverID: receiverFrom(ctx).ID, After: after, Limit: limit + 1}
	if req.Params.Status != nil {
		for _, st := range *req.Params.Status {
			filter.Statuses = append(filter.Statuses, consent.Status(st))
		}
	}
	out := api.ConsentList{Data: []api.Consent{}}
	for rec, err := range s.in.ListConsents(ctx, filter) {
		if err != nil {
			return nil, err
		}
		if len(out.Data) == limit {
			out.NextCursor = encodeCursor(out.Data[limit-1].Id)
			break
		}
		out.Data = append(out.Data, consentView(rec))
	}
	return api.ListConsents200JSONResponse(out), nil
}

// GetConsent returns one of the caller's consents, read from the bank
// first when asked.
func (s *Server) GetConsent(ctx context.Context, req api.GetConsentRequestObject) (api.GetConsentResponseObject, error) {
	rec, err := s.ownConsent(ctx, req.ConsentId)
	if err != nil {
		return nil, err
	}
	if req.Params.Refresh != nil && *req.Params.Refresh {
		if rec, err = s.in.SyncConsent(ctx, rec.ID); err != nil {
			return nil, err
		}
	}
	return api.GetConsent200JSONResponse(consentView(rec)), nil
}

// ReauthorizeConsent returns a new redirect URL for a consent still
// waiting for the payer.
func (s *Server) ReauthorizeConsent(ctx context.Context, req api.ReauthorizeConsentRequestObject) (api.ReauthorizeConsentResponseObject, error) {
	rec, err := s.ownConsent(ctx, req.ConsentId)
	if err != nil {
		return nil, err
	}
	en, err := s.in.Reauthorize(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	return api.ReauthorizeConsent200JSONResponse(api.Enrolment{Consent: consentView(rec), RedirectUrl: en.RedirectURL, RedirectExpiresAt: apiTime(en.ExpiresAt)}), nil
}

// EditConsent edits an authorised consent.
func (s *Server) EditConsent(ctx context.Context, req api.EditConsentRequestObject) (api.EditConsentResponseObject, error) {
	rec, err := s.ownConsent(ctx, req.ConsentId)
	if err != nil {
		return nil, err
	}
	b := req.Body
	var (
		f      fields
		change consent.EditChange
		user   *consent.LoggedUser
	)
	if b.CreditorName != nil {
		change.CreditorName = *b.CreditorName
	}
	removeExpiry, removeMax := b.RemoveExpiry != nil && *b.RemoveExpiry, b.RemoveMaximum != nil && *b.RemoveMaximum
	switch {
	case b.ExpiresOn != nil && removeExpiry:
		f.add("remove_expiry", "cannot be sent with expires_on")
	case b.ExpiresOn != nil:
		change.Expiration = consent.SetExpiration(f.date("expires_on", *b.ExpiresOn))
	case removeExpiry:
		change.Expiration = consent.IndefiniteExpiration()
	}
	switch {
	case b.MaximumAmount != nil && removeMax:
		f.add("remove_maximum", "cannot be sent with maximum_amount")
	case b.MaximumAmount != nil:
		change.MaximumVariableAmount = consent.SetMaximum(f.amount("maximum_amount", *b.MaximumAmount))
	case removeMax:
		change.MaximumVariableAmount = consent.IndefiniteMaximum()
	}
	if b.PayerDocument != nil {
		u := consent.NewLoggedUser(*b.PayerDocument)
		user = &u
	}
	var signals *consent.RiskSignals
	if rs := b.RiskSignals; rs != nil {
		signals = &consent.RiskSignals{
			DeviceID: rs.DeviceId, OsVersion: rs.OsVersion, UserTimeZoneOffset: rs.UserTimeZoneOffset, Language: rs.Language,
			ScreenDimensions: consent.ScreenDimensions{Height: rs.ScreenHeight, Width: rs.ScreenWidth},
			AccountTenure:    f.date("risk_signals.account_tenure", rs.AccountTenure),
			IsRootedDevice:   rs.IsRootedDevice, IsCallInProgress: rs.IsCallInProgress, IsDevModeEnabled: rs.IsDevModeEnabled, IsEmulated: rs.IsEmulated,
		}
	}
	if p := f.problem(); p != nil {
		return nil, p
	}
	rec, err = s.in.Edit(ctx, rec.ID, change, user, signals)
	if err != nil && rec == nil {
		return nil, err
	}
	if err != nil {
		// The edition is stored; re-reading the consent's charges failed and
		// is left to reconciliation.
		s.log.WarnContext(ctx, "consent edited; its charges will be re-read later", "consent", rec.ID, "request_id", requestIDFrom(ctx), "err", err)
	}
	return api.EditConsent200JSONResponse(consentView(rec)), nil
}

// RevokeConsent revokes an authorised consent.
func (s *Server) RevokeConsent(ctx context.Context, req api.RevokeConsentRequestObject) (api.RevokeConsentResponseObject, error) {
	rec, err := s.ownConsent(ctx, req.ConsentId)
	if err != nil {
		return nil, err
	}
	code, detail := consent.RevocationRecebedor, ""
	if b := req.Body; b != nil {
		if b.By != nil && *b.By == api.RevokeConsentRequestByPayer {
			code = consent.RevocationUsuario
		}
		if b.Detail != nil {
			detail = *b.Detail
		}
	}
	rec, err = s.in.Revoke(ctx, rec.ID, code, detail)
	if err != nil && rec == nil {
		return nil, err
	}
	if err != nil {
		s.log.WarnContext(ctx, "consent revoked; its charges will be re-read later", "consent", rec.ID, "request_id", requestIDFrom(ctx), "err", err)
	}
	return api.RevokeConsent200JSONResponse(consentView(rec)), nil
}
