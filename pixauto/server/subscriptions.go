package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// checkWebhookURL accepts an absolute https URL (http too when the server
// allows it), without credentials or fragment.
func checkWebhookURL(raw string, allowHTTP bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "":
		return "must be an absolute URL"
	case u.Scheme != "https" && !(allowHTTP && u.Scheme == "http"):
		if allowHTTP {
			return "must be an http or https URL"
		}
		return "must be an https URL"
	case u.User != nil:
		return "must not carry credentials"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not carry a fragment"
	}
	return ""
}

// newWebhookSecret returns "whsec_" and 32 random bytes, base64url.
func newWebhookSecret(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("server: webhook secret: %w", err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// CreateWebhookSubscription subscribes a URL of the caller.
func (s *Server) CreateWebhookSubscription(ctx context.Context, req api.CreateWebhookSubscriptionRequestObject) (api.CreateWebhookSubscriptionResponseObject, error) {
	b := req.Body
	var f fields
	if msg := checkWebhookURL(b.Url, s.cfg.AllowHTTPWebhooks); msg != "" {
		f.add("url", msg)
	}
	if p := f.problem(); p != nil {
		return nil, p
	}
	secret, generated := "", false
	if b.Secret != nil {
		secret = *b.Secret
	} else {
		var err error
		if secret, err = newWebhookSecret(s.cfg.Rand); err != nil {
			return nil, err
		}
		generated = true
	}
	id, err := newUUID(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal.seal([]byte(secret), id)
	if err != nil {
		return nil, err
	}
	sub := &Subscription{ID: id, ReceiverID: receiverFrom(ctx).ID, URL: b.Url, Secret: sealed, CreatedAt: s.now()}
	if b.Description != nil {
		sub.Description = *b.Description
	}
	if err := s.store.InsertSubscription(ctx, sub); err != nil {
		return nil, err
	}
	v := subscriptionView(sub)
	if generated {
		v.Secret = &secret
	}
	return api.CreateWebhookSubscription201JSONResponse(v), nil
}

// ListWebhookSubscriptions lists the caller's live subscriptions.
func (s *Server) ListWebhookSubscriptions(ctx context.Context, _ api.ListWebhookSubscriptionsRequestObject) (api.ListWebhookSubscriptionsResponseObject, error) {
	subs, err := s.store.ListSubscriptions(ctx, receiverFrom(ctx).ID)
	if err != nil {
		return nil, err
	}
	out := api.WebhookSubscriptionList{Data: make([]api.WebhookSubscription, 0, len(subs))}
	for _, sub := range subs {
		out.Data = append(out.Data, subscriptionView(sub))
	}
	return api.ListWebhookSubscriptions200JSONResponse(out), nil
}

// ownSubscription returns a subscription of the caller (deleted ones too
// when withDeleted); another receiver's is not found.
func (s *Server) ownSubscription(ctx context.Context, id string, withDeleted bool) (*Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, id)
	if errors.Is(err, pixauto.ErrNotFound) || (err == nil && (sub.ReceiverID != receiverFrom(ctx).ID || (!withDeleted && !sub.DeletedAt.IsZero()))) {
		return nil, notFound("webhook subscription")
	}
	return sub, err
}

// GetWebhookSubscription returns a live subscription of the caller.
func (s *Server) GetWebhookSubscription(ctx context.Context, req api.GetWebhookSubscriptionRequestObject) (api.GetWebhookSubscriptionResponseObject, error) {
	sub, err := s.ownSubscription(ctx, req.SubscriptionId, false)
	if err != nil {
		return nil, err
	}
	return api.GetWebhookSubscription200JSONResponse(subscriptionView(sub)), nil
}

// DeleteWebhookSubscription deletes a live subscription of the caller and
// cancels its pending deliveries.
func (s *Server) DeleteWebhookSubscription(ctx context.Context, req api.DeleteWebhookSubscriptionRequestObject) (api.DeleteWebhookSubscriptionResponseObject, error) {
	sub, err := s.ownSubscription(ctx, req.SubscriptionId, false)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteSubscription(ctx, sub.ID, s.now()); err != nil {
		if errors.Is(err, pixauto.ErrNotFound) {
			return nil, notFound("webhook subscription")
		}
		return nil, err
	}
	return api.DeleteWebhookSubscription204Response{}, nil
}

// ListWebhookDeliveries pages through a subscription's deliveries, each
// with its attempts.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	sub, err := s.ownSubscription(ctx, req.SubscriptionId, true)
	if err != nil {
		return nil, err
	}
	after, p := decodeCursor(req.Params.Cursor)
	if p != nil {
		return nil, p
	}
	limit := pageLimit(req.Params.Limit)
	filter := DeliveryFilter{SubscriptionID: sub.ID, After: after, Limit: limit + 1}
	if req.Params.Status != nil {
		filter.Status = DeliveryStatus(*req.Params.Status)
	}
	ds, err := s.store.ListDeliveries(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := api.WebhookDeliveryList{Data: []api.WebhookDelivery{}}
	if len(ds) > limit {
		ds = ds[:limit]
		out.NextCursor = encodeCursor(ds[limit-1].ID)
	}
	for _, d := range ds {
		attempts, err := s.store.ListDeliveryAttempts(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, deliveryView(d, attempts))
	}
	return api.ListWebhookDeliveries200JSONResponse(out), nil
}

// GetWebhookDelivery returns one delivery of a subscription of the caller.
func (s *Server) GetWebhookDelivery(ctx context.Context, req api.GetWebhookDeliveryRequestObject) (api.GetWebhookDeliveryResponseObject, error) {
	sub, err := s.ownSubscription(ctx, req.SubscriptionId, true)
	if err != nil {
		return nil, err
	}
	d, err := s.store.GetDelivery(ctx, req.DeliveryId)
	if errors.Is(err, pixauto.ErrNotFound) || (err == nil && d.SubscriptionID != sub.ID) {
		return nil, notFound("webhook delivery")
	}
	if err != nil {
		return nil, err
	}
	attempts, err := s.store.ListDeliveryAttempts(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	return api.GetWebhookDelivery200JSONResponse(deliveryView(d, attempts)), nil
}
