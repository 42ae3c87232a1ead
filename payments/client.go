package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
)

// Sentinels of the cancellation rules (checklist items 59 and 60).
var (
	// ErrNotCancellable: only SCHD and PDNG payments can be cancelled.
	ErrNotCancellable = errors.New("payments: payment cannot be cancelled in its status")
	// ErrCancelDeadline: the cancellation deadline has passed (22:00 of the
	// day before for the receiver, 23:59 for the payer, Brasília).
	ErrCancelDeadline = errors.New("payments: cancellation deadline passed")
	// ErrPayerCannotCancelRetry: retries can be cancelled only by the
	// receiver.
	ErrPayerCannotCancelRetry = errors.New("payments: the payer cannot cancel a retry")
)

// RetryGrant chooses the token of POST …/{originalRecurringPaymentId}/retry
// on 2.2.0 holders. The spec secures it with client_credentials; the
// official test guide uses the consent's refresh-token grant. Holders differ
// (spec digest §9.1), so it is configurable.
type RetryGrant int

// Retry grants.
const (
	RetryWithClientCredentials RetryGrant = iota // the spec's securitySchemes
	RetryWithConsentToken                        // the FVP guide's reading
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// FAPI is the security client of the bank. Required.
	FAPI *fapi.Client
	// BaseURL is the automatic-payments base on the bank's mTLS host,
	// ending in /open-banking/automatic-payments/v2. Required.
	BaseURL string
	// Version forces the wire form. Empty means: learn it from the bank's
	// x-v header (probing with a GET before the first write if needed).
	Version Version
	// Token supplies client_credentials tokens (recurring-payments) for
	// reads, cancellations and 2.2.0 retries. Nil means
	// FAPI.ClientCredentialsSource.
	Token fapi.TokenSource
	// RetryGrant picks the token of 2.2.0 retries; see RetryGrant.
	RetryGrant RetryGrant
	// Validator runs the checklist before every write. Its Version is set
	// from the negotiated version. Nil means a zero Validator.
	Validator *Validator
	// Clock is the time rules are checked at. Nil means the system clock.
	Clock fapi.Clock
}

// Client calls the recurring-payments endpoints in the wire form of the
// bank's API version; the caller's code does not change with the version.
// Every write is validated against the checklist first, every body signed,
// every answer's signature verified. It is safe for concurrent use.
type Client struct {
	fapi      *fapi.Client
	base      string
	fixed     Version
	token     fapi.TokenSource
	grant     RetryGrant
	validator Validator
	clock     fapi.Clock

	mu      sync.Mutex
	learned Version
}

// NewClient validates cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.FAPI == nil {
		return nil, errors.New("payments: ClientConfig.FAPI is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("payments: ClientConfig.BaseURL %q must be an https URL", cfg.BaseURL)
	}
	if cfg.Version != "" && !cfg.Version.Known() {
		return nil, fmt.Errorf("payments: ClientConfig.Version %q is not a version this package speaks", cfg.Version)
	}
	c := &Client{fapi: cfg.FAPI, base: strings.TrimRight(cfg.BaseURL, "/"), fixed: cfg.Version, token: cfg.Token, grant: cfg.RetryGrant, clock: cfg.Clock}
	if c.token == nil {
		c.token = cfg.FAPI.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	}
	if c.clock == nil {
		c.clock = fapi.ClockFunc(time.Now)
	}
	if cfg.Validator != nil {
		c.validator = *cfg.Validator
	}
	return c, nil
}

// Version returns the wire version in use: the configured one, else the
// one learned from the bank, else "" if none is known yet.
func (c *Client) Version() Version {
	if c.fixed != "" {
		return c.fixed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.learned
}

func (c *Client) learn(xv string) {
	if c.fixed != "" || xv == "" {
		return
	}
	v, _ := ParseVersion(xv)
	c.mu.Lock()
	c.learned = v
	c.mu.Unlock()
}

// version returns the version to write with, probing the bank with a list
// read of the consent's payments when it is not known yet.
func (c *Client) version(ctx context.Context, consentID string) (Version, error) {
	if v := c.Version(); v != "" {
		return v, nil
	}
	if consentID == "" {
		return DefaultVersion, nil
	}
	if _, err := c.List(ctx, ListFilter{ConsentID: consentID}); err != nil {
		return "", fmt.Errorf("payments: learning the bank's API version: %w", err)
	}
	if v := c.Version(); v != "" {
		return v, nil
	}
	return DefaultVersion, nil
}

// CreateParams are the inputs of Create.
type CreateParams struct {
	// Consent is the consent as last read; the checklist is checked against
	// it. Required.
	Consent *consent.Consent
	// Existing are the consent's payments known to the caller (for the
	// one-payment-per-cycle and E2EID-reuse rules).
	Existing []Payment
	// Request is the payment. Required.
	Request *Request
	// Token is the consent's token source (authorization_code, then
	// refresh). Required.
	Token fapi.TokenSource
	// IdempotencyKey identifies this creation; store it with the E2EID
	// before calling, and reuse both if the call must be resent.
	IdempotencyKey string
}

// Create creates a recurring payment (POST /pix/recurring-payments,
// automaticPaymentsPostPixRecurringPayments) after checking checklist items
// 26–50 against the consent.
func (c *Client) Create(ctx context.Context, p CreateParams) (*Payment, error) {
	if p.Consent == nil || p.Request == nil || p.Token == nil {
		return nil, errors.New("payments: CreateParams needs Consent, Request and Token")
	}
	v, err := c.version(ctx, p.Consent.RecurringConsentID)
	if err != nil {
		return nil, err
	}
	val := c.validator
	val.Version = v
	if err := val.ValidateCreate(p.Request, p.Consent, p.Existing, c.clock.Now()); err != nil {
		return nil, err
	}
	call, err := EncodeCreate(v, p.Request)
	if err != nil {
		return nil, err
	}
	return c.write(ctx, call, p.Token, p.IdempotencyKey)
}

// RetryParams are the inputs of Retry.
type RetryParams struct {
	// Consent is the consent as last read. Required.
	Consent *consent.Consent
	// Chain is the recurrence's attempts so far, original first. Required.
	Chain Chain
	// Retry is the new attempt (see Decide and PlanRetry). Required.
	Retry *Retry
	// ConsentToken is the consent's token source: required on 2.0/2.1
	// holders (a retry is a POST /pix/recurring-payments) and with
	// RetryWithConsentToken.
	ConsentToken fapi.TokenSource
	// IdempotencyKey identifies this retry.
	IdempotencyKey string
}

// Retry creates a new attempt of a failed recurrence after checking
// checklist items 51–58: POST /pix/recurring-payments/{originalRecurringPaymentId}/retry
// on 2.2.0, POST /pix/recurring-payments with originalRecurringPaymentId on
// 2.0/2.1, with lastRetryRecurringPaymentIds on the early draft.
func (c *Client) Retry(ctx context.Context, p RetryParams) (*Payment, error) {
	if p.Consent == nil || p.Retry == nil {
		return nil, errors.New("payments: RetryParams needs Consent and Retry")
	}
	v, err := c.version(ctx, p.Consent.RecurringConsentID)
	if err != nil {
		return nil, err
	}
	val := c.validator
	val.Version = v
	if err := val.ValidateRetry(p.Retry, p.Chain, p.Consent, c.clock.Now()); err != nil {
		return nil, err
	}
	call, err := EncodeRetry(v, p.Retry)
	if err != nil {
		return nil, err
	}
	ts := c.token
	if !v.HasRetryEndpoint() || c.grant == RetryWithConsentToken {
		if p.ConsentToken == nil {
			return nil, errors.New("payments: RetryParams.ConsentToken is required for this holder")
		}
		ts = p.ConsentToken
	}
	return c.write(ctx, call, ts, p.IdempotencyKey)
}

func validateID(field, id string) error {
	if !paymentIDRE.MatchString(id) {
		return ValidationErrors{{Field: field, Rule: `must match ^[a-zA-Z0-9][a-zA-Z0-9\-]{0,99}$`, Err: ErrInvalidFormat}}
	}
	return nil
}

// Get reads a payment (GET /pix/recurring-payments/{recurringPaymentId},
// automaticPaymentsGetPixRecurringPaymentsPaymentId) with a
// client_credentials token.
func (c *Client) Get(ctx context.Context, id string) (*Payment, error) {
	if err := validateID("recurringPaymentId", id); err != nil {
		return nil, err
	}
	resp, err := c.fapi.Do(ctx, fapi.Call{Method: http.MethodGet, URL: c.base + "/pix/recurring-payments/" + id, Token: c.token})
	if err != nil {
		return nil, err
	}
	c.learn(resp.Version)
	p, err := decodeOne(resp)
	if err != nil {
		return nil, err
	}
	if p.ID != id {
		return nil, fmt.Errorf("payments: GET %s: the bank answered for payment %q", id, p.ID)
	}
	return p, nil
}

// List reads a consent's payments (GET /pix/recurring-payments,
// automaticPaymentsGetPixRecurringPayments), optionally cut by date or by
// original attempt (checklist item 67). The spec defines no pagination.
// List items are a subset of a payment; use Get for the details.
func (c *Client) List(ctx context.Context, f ListFilter) ([]Payment, error) {
	q, err := f.Query()
	if err != nil {
		return nil, err
	}
	resp, err := c.fapi.Do(ctx, fapi.Call{Method: http.MethodGet, URL: c.base + "/pix/recurring-payments?" + q.Encode(), Token: c.token})
	if err != nil {
		return nil, err
	}
	c.learn(resp.Version)
	if resp.Message == nil {
		return nil, fmt.Errorf("payments: list: HTTP %d with an empty body", resp.StatusCode)
	}
	return DecodePayments(resp.Message.Data)
}

// CancelParams are the inputs of Cancel.
type CancelParams struct {
	// Payment is the payment as last read (status, date, retry link).
	// Required.
	Payment *Payment
	// Consent is its consent, to tell the receiver from the payer.
	// Required.
	Consent *consent.Consent
	// CancelledBy is the document of whoever asks: the receiver's CNPJ or
	// the payer's CPF/CNPJ.
	CancelledBy consent.Document
	// IdempotencyKey identifies this cancellation.
	IdempotencyKey string
}

// Cancel cancels a scheduled or pending payment (PATCH
// /pix/recurring-payments/{recurringPaymentId}, status CANC) after checking
// items 59 and 60: only SCHD or PDNG; the receiver until 22:00 of the day
// before the settlement date, the payer until 23:59 (Brasília); retries by
// the receiver only.
func (c *Client) Cancel(ctx context.Context, p CancelParams) (*Payment, error) {
	if err := CheckCancel(p.Payment, p.Consent, p.CancelledBy, c.clock.Now()); err != nil {
		return nil, err
	}
	v, err := c.version(ctx, p.Consent.RecurringConsentID)
	if err != nil {
		return nil, err
	}
	call, err := EncodeCancel(v, p.Payment.ID, p.CancelledBy)
	if err != nil {
		return nil, err
	}
	return c.write(ctx, call, c.token, p.IdempotencyKey)
}

// CheckCancel applies checklist items 59 and 60 to a cancellation asked by
// the owner of by, at now.
func CheckCancel(p *Payment, c *consent.Consent, by consent.Document, now time.Time) error {
	var errs ValidationErrors
	add := func(item int, field, rule string, err error) {
		errs = append(errs, &ValidationError{Item: item, Field: field, Rule: rule, Err: err})
	}
	if p == nil || c == nil {
		add(59, "data", "the payment and its consent are required", ErrMissing)
		return errs
	}
	if !by.Valid() {
		add(59, "cancellation.cancelledBy.document", "must be a CPF (11 digits, rel CPF) or a CNPJ (14, rel CNPJ)", ErrInvalidFormat)
	}
	if p.Status != StatusSCHD && p.Status != StatusPDNG {
		add(59, "status", fmt.Sprintf("only SCHD or PDNG payments can be cancelled, this one is %s", p.Status), ErrNotCancellable)
	}
	receiver := len(c.Creditors) > 0 && by.Identification == c.Creditors[0].CpfCnpj
	if p.IsRetry() && !receiver {
		add(60, "cancellation.cancelledBy.document", "retries can be cancelled by the receiver only", ErrPayerCannotCancelRetry)
	}
	// Deadlines are exclusive: the receiver until 21:59:59 (before 22:00),
	// the payer until 23:59:59 of the day before the settlement date.
	deadline := p.Date.AddDays(-1).In(consent.Brasilia).Add(22 * time.Hour)
	who := "the receiver"
	if !receiver {
		deadline, who = p.Date.In(consent.Brasilia), "the payer"
	}
	if !now.Before(deadline) {
		add(60, "date", fmt.Sprintf("%s could cancel before %s Brasília", who, deadline.Format("2006-01-02 15:04")), ErrCancelDeadline)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (c *Client) write(ctx context.Context, call Call, ts fapi.TokenSource, key string) (*Payment, error) {
	resp, err := c.fapi.Do(ctx, fapi.Call{Method: call.Method, URL: c.base + call.Path, Data: call.Body, Token: ts, IdempotencyKey: key})
	if err != nil {
		return nil, err
	}
	c.learn(resp.Version)
	return decodeOne(resp)
}

func decodeOne(resp *fapi.Response) (*Payment, error) {
	if resp.Message == nil {
		return nil, fmt.Errorf("payments: HTTP %d with an empty body", resp.StatusCode)
	}
	p, err := DecodePayment(resp.Message.Data)
	if err != nil {
		return nil, err
	}
	return &p, nil
}
