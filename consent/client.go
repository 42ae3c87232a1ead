package consent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/fapi"
)

// APIPath is the path prefix of the automatic-payments API v2.
const APIPath = "/open-banking/automatic-payments/v2"

// ClientConfig configures a Client.
type ClientConfig struct {
	// FAPI is the security client of the bank. Required.
	FAPI *fapi.Client
	// BaseURL is the bank's automatic-payments base on its mTLS host, ending
	// in APIPath (for example
	// "https://matls-api.banco.com.br/open-banking/automatic-payments/v2").
	// Required.
	BaseURL string
	// Token supplies client_credentials tokens with scope
	// recurring-payments. Nil means FAPI.ClientCredentialsSource.
	Token fapi.TokenSource
	// Clock is the time the client-side rules are checked at. Nil means the
	// system clock.
	Clock fapi.Clock
}

// Client calls the recurring-consents endpoints. Every request is checked
// against the spec's rules before it leaves, every body is signed and every
// answer's signature verified. It is safe for concurrent use.
type Client struct {
	fapi  *fapi.Client
	base  string
	token fapi.TokenSource
	clock fapi.Clock
}

// NewClient validates cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.FAPI == nil {
		return nil, errors.New("consent: ClientConfig.FAPI is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("consent: ClientConfig.BaseURL %q must be an https URL", cfg.BaseURL)
	}
	c := &Client{fapi: cfg.FAPI, base: strings.TrimRight(cfg.BaseURL, "/"), token: cfg.Token, clock: cfg.Clock}
	if c.token == nil {
		c.token = cfg.FAPI.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	}
	if c.clock == nil {
		c.clock = fapi.ClockFunc(time.Now)
	}
	return c, nil
}

var consentIDRE = regexp.MustCompile(`^urn:[a-zA-Z0-9][a-zA-Z0-9\-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%/?#]+$`)

// ValidateID checks a recurringConsentId: a URN of at most 256 characters.
func ValidateID(id string) error {
	if len(id) > 256 || !consentIDRE.MatchString(id) {
		return ValidationErrors{{Field: "recurringConsentId", Rule: "must be a URN of at most 256 characters", Err: ErrFormat}}
	}
	return nil
}

// Create creates a recurring consent (POST /recurring-consents,
// automaticPaymentsPostRecurringConsents). req is checked by ValidateCreate
// first. idempotencyKey identifies this creation: generate it once, store it,
// and reuse it if the call must be resent. The consent comes back
// AWAITING_AUTHORISATION; send the payer to the authorization with
// fapi.RecurringConsentScopes(consent.RecurringConsentID).
func (c *Client) Create(ctx context.Context, req *CreateRequest, idempotencyKey string) (*Consent, error) {
	if err := ValidateCreate(req, c.clock.Now()); err != nil {
		return nil, err
	}
	return c.call(ctx, http.MethodPost, c.base+"/recurring-consents", req, idempotencyKey, "")
}

// Get reads a consent (GET /recurring-consents/{recurringConsentId},
// automaticPaymentsGetRecurringConsentsConsentId).
func (c *Client) Get(ctx context.Context, id string) (*Consent, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	return c.call(ctx, http.MethodGet, c.base+"/recurring-consents/"+url.PathEscape(id), nil, "", id)
}

// Patch sends PATCH /recurring-consents/{recurringConsentId}
// (automaticPaymentsPatchRecurringConsentsConsentId) with an edit, a
// revocation or a rejection built by NewEdit, NewRevocation or NewRejection,
// which check the rules against the consent as last read.
func (c *Client) Patch(ctx context.Context, id string, p Patch, idempotencyKey string) (*Consent, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, ValidationErrors{{Field: "data", Rule: "a PATCH body is required", Err: ErrRequired}}
	}
	return c.call(ctx, http.MethodPatch, c.base+"/recurring-consents/"+url.PathEscape(id), p, idempotencyKey, id)
}

// Edit changes the maximum variable amount, the expiry or the creditor
// name of an AUTHORISED consent; see NewEdit.
func (c *Client) Edit(ctx context.Context, id string, e *EditRequest, idempotencyKey string) (*Consent, error) {
	if e == nil {
		return nil, ValidationErrors{{Field: "data", Rule: "build the edit with NewEdit", Err: ErrRequired}}
	}
	return c.Patch(ctx, id, e, idempotencyKey)
}

// Revoke revokes an AUTHORISED consent; see NewRevocation.
func (c *Client) Revoke(ctx context.Context, id string, r *RevocationRequest, idempotencyKey string) (*Consent, error) {
	if r == nil {
		return nil, ValidationErrors{{Field: "data", Rule: "build the revocation with NewRevocation", Err: ErrRequired}}
	}
	return c.Patch(ctx, id, r, idempotencyKey)
}

// Reject rejects a consent not yet authorised; see NewRejection.
func (c *Client) Reject(ctx context.Context, id string, r *RejectionRequest, idempotencyKey string) (*Consent, error) {
	if r == nil {
		return nil, ValidationErrors{{Field: "data", Rule: "build the rejection with NewRejection", Err: ErrRequired}}
	}
	return c.Patch(ctx, id, r, idempotencyKey)
}

func (c *Client) call(ctx context.Context, method, u string, data any, key, wantID string) (*Consent, error) {
	call := fapi.Call{Method: method, URL: u, Token: c.token, IdempotencyKey: key}
	if data != nil {
		call.Data = data
	}
	resp, err := c.fapi.Do(ctx, call)
	if err != nil {
		return nil, err
	}
	if resp.Message == nil {
		return nil, fmt.Errorf("consent: %s %s: HTTP %d with an empty body", method, u, resp.StatusCode)
	}
	got, err := DecodeConsent(resp.Message.Data)
	if err != nil {
		return nil, err
	}
	if wantID != "" && got.RecurringConsentID != wantID {
		return nil, fmt.Errorf("consent: %s %s: the bank answered for consent %q", method, u, got.RecurringConsentID)
	}
	return got, nil
}
