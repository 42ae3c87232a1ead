package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// ownCharge returns a charge of the caller; another receiver's charge is
// not found, exactly like one that does not exist.
func (s *Server) ownCharge(ctx context.Context, id string) (*pixauto.ChargeRecord, error) {
	ch, err := s.in.GetCharge(ctx, id)
	if errors.Is(err, pixauto.ErrNotFound) || (err == nil && ch.ReceiverID != receiverFrom(ctx).ID) {
		return nil, notFound("charge")
	}
	return ch, err
}

// chargeWithAttempts renders a charge read anew, with its attempts.
func (s *Server) chargeWithAttempts(ctx context.Context, id string) (api.Charge, error) {
	ch, err := s.in.GetCharge(ctx, id)
	if err != nil {
		return api.Charge{}, err
	}
	attempts, err := s.in.Attempts(ctx, id)
	if err != nil {
		return api.Charge{}, err
	}
	return chargeView(ch, attempts), nil
}

// CreateCharge plans a charge of one of the caller's consents.
func (s *Server) CreateCharge(ctx context.Context, req api.CreateChargeRequestObject) (api.CreateChargeResponseObject, error) {
	rcv, b := receiverFrom(ctx), req.Body
	var f fields
	amount := f.amount("amount", b.Amount)
	due := f.date("due_date", b.DueDate)
	if p := f.problem(); p != nil {
		return nil, p
	}
	if _, err := s.ownConsent(ctx, b.ConsentId); err != nil {
		return nil, err
	}
	cr := pixauto.ChargeRequest{ConsentID: b.ConsentId, DueDate: due, Amount: amount, CreditorAccount: rcv.Account}
	if b.Description != nil {
		cr.Description = *b.Description
	}
	if b.ExternalId != nil {
		cr.ExternalID = *b.ExternalId
	}
	ch, err := s.in.Charge(ctx, cr)
	if err != nil {
		return nil, err
	}
	if cr.ExternalID != "" && (ch.ConsentID != cr.ConsentID || ch.Amount != amount || ch.DueDate != due) {
		p := problem(http.StatusConflict, CodeConflict, "external_id already names another charge.")
		p.Fields = []api.FieldError{{Field: "external_id", Message: "is already used by charge " + ch.ID}}
		return nil, p
	}
	v, err := s.chargeWithAttempts(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	return api.CreateCharge201JSONResponse(v), nil
}

// ListCharges pages through the caller's charges.
func (s *Server) ListCharges(ctx context.Context, req api.ListChargesRequestObject) (api.ListChargesResponseObject, error) {
	after, p := decodeCursor(req.Params.Cursor)
	if p != nil {
		return nil, p
	}
	var f fields
	limit := pageLimit(req.Params.Limit)
	filter := pixauto.ChargeFilter{ReceiverID: receiverFrom(ctx).ID, After: after, Limit: limit + 1}
	if req.Params.ConsentId != nil {
		filter.ConsentID = *req.Params.ConsentId
	}
	filter.DueFrom = f.optDate("due_from", req.Params.DueFrom)
	filter.DueTo = f.optDate("due_to", req.Params.DueTo)
	if !filter.DueFrom.IsZero() && !filter.DueTo.IsZero() && filter.DueTo.Before(filter.DueFrom) {
		f.add("due_to", "is before due_from")
	}
	if p := f.problem(); p != nil {
		return nil, p
	}
	if req.Params.Status != nil {
		for _, st := range *req.Params.Status {
			filter.Statuses = append(filter.Statuses, pixauto.ChargeStatus(st))
		}
	}
	out := api.ChargeList{Data: []api.Charge{}}
	for ch, err := range s.in.ListCharges(ctx, filter) {
		if err != nil {
			return nil, err
		}
		if len(out.Data) == limit {
			out.NextCursor = encodeCursor(out.Data[limit-1].Id)
			break
		}
		out.Data = append(out.Data, chargeView(ch, nil))
	}
	return api.ListCharges200JSONResponse(out), nil
}

// GetCharge returns one of the caller's charges with its attempts, read
// from the bank first when asked.
func (s *Server) GetCharge(ctx context.Context, req api.GetChargeRequestObject) (api.GetChargeResponseObject, error) {
	ch, err := s.ownCharge(ctx, req.ChargeId)
	if err != nil {
		return nil, err
	}
	if req.Params.Refresh != nil && *req.Params.Refresh {
		if _, err := s.in.SyncCharge(ctx, ch.ID); err != nil {
			return nil, err
		}
	}
	v, err := s.chargeWithAttempts(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	return api.GetCharge200JSONResponse(v), nil
}

// CancelCharge cancels one of the caller's charges, for the receiver or
// for the payer.
func (s *Server) CancelCharge(ctx context.Context, req api.CancelChargeRequestObject) (api.CancelChargeResponseObject, error) {
	ch, err := s.ownCharge(ctx, req.ChargeId)
	if err != nil {
		return nil, err
	}
	by := consent.DocumentFor(receiverFrom(ctx).CNPJ)
	if b := req.Body; b != nil && b.By != nil && *b.By == api.CancelChargeRequestByPayer {
		rec, err := s.in.GetConsent(ctx, ch.ConsentID)
		if err != nil {
			return nil, err
		}
		if rec.Consent == nil || rec.Consent.LoggedUser == nil {
			return nil, problem(http.StatusConflict, CodeConsentState, "The consent does not name its payer.")
		}
		by = rec.Consent.LoggedUser.Document
	}
	if _, err := s.in.Cancel(ctx, ch.ID, by); err != nil {
		return nil, err
	}
	v, err := s.chargeWithAttempts(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	return api.CancelCharge200JSONResponse(v), nil
}

// RetryCharge retries one of the caller's failed charges now.
func (s *Server) RetryCharge(ctx context.Context, req api.RetryChargeRequestObject) (api.RetryChargeResponseObject, error) {
	ch, err := s.ownCharge(ctx, req.ChargeId)
	if err != nil {
		return nil, err
	}
	if ch.Status != pixauto.ChargeRetrying {
		// Only a failed attempt can be retried; a final charge never moves
		// again, and a charge in flight has nothing to retry.
		return nil, problem(http.StatusConflict, CodeChargeState, "The charge is "+string(ch.Status)+"; only a RETRYING charge can be retried.")
	}
	if _, err := s.in.Retry(ctx, ch.ID); err != nil {
		var re *pixauto.RetryError
		if errors.As(err, &re) && re.Decision.Action == payments.Wait {
			// The Initiator decided to wait: the bank retries by itself in
			// the evening, or the next retry day has not come.
			return nil, problem(http.StatusConflict, CodeRetryNotAllowed, "No retry is possible yet: the bank retries by itself later today, or the next retry day has not come.")
		}
		return nil, err
	}
	v, err := s.chargeWithAttempts(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	return api.RetryCharge200JSONResponse(v), nil
}
