package pixauto

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// Store errors. Implementations return them (possibly wrapped) so that the
// Initiator can branch with errors.Is.
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("pixauto: not found")
	// ErrConflict: an optimistic update lost a race (the record's Version
	// changed since it was read), or an insert broke a uniqueness rule (a
	// second live charge for the same consent cycle, a reused E2EID or
	// idempotency key).
	ErrConflict = errors.New("pixauto: conflict")
)

// ConsentRecord is a recurring consent as the Initiator keeps it.
type ConsentRecord struct {
	// ID is the bank's recurringConsentId.
	ID string
	// ReceiverID is the receiver (recebedor) the consent pays; the Initiator
	// never shows one receiver another's data.
	ReceiverID string
	// HolderID names the bank (Config.Holders).
	HolderID string
	// Status mirrors Consent.Status, for queries.
	Status consent.Status
	// Consent is the consent as last read from the bank.
	Consent *consent.Consent
	// IdempotencyKey is the key of its creation.
	IdempotencyKey string
	// NextCheckAt is when the consent should next be read from the bank
	// (zero: no check due).
	NextCheckAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Version is incremented by every update; UpdateConsent requires the
	// version that was read.
	Version int64
}

// AuthorizationRecord is an authorization in progress, kept between
// sending the payer to the bank and the callback. Sealed holds the
// fapi.Authorization (state, nonce, PKCE verifier) encrypted by the
// Initiator; the store never sees it in clear.
type AuthorizationRecord struct {
	State     string // the OAuth state: the key
	ConsentID string
	HolderID  string
	Sealed    []byte
	ExpiresAt time.Time
	CreatedAt time.Time
}

// ChargeStatus is the receiver-facing status of a charge: one cycle's
// payment, with all its attempts.
type ChargeStatus string

// Charge statuses.
const (
	ChargePlanned   ChargeStatus = "PLANNED"   // stored, not yet submitted
	ChargeScheduled ChargeStatus = "SCHEDULED" // accepted by the bank, waiting for its date
	ChargeRetrying  ChargeStatus = "RETRYING"  // an attempt failed; another is planned or in flight
	ChargeSettled   ChargeStatus = "SETTLED"   // paid (ACSC)
	ChargeFailed    ChargeStatus = "FAILED"    // final failure: no attempt left
	ChargeCancelled ChargeStatus = "CANCELLED" // cancelled before settlement
)

// Final reports whether the charge can no longer change.
func (s ChargeStatus) Final() bool {
	return s == ChargeSettled || s == ChargeFailed || s == ChargeCancelled
}

// ChargeRecord is one billing cycle's charge (or the first payment).
type ChargeRecord struct {
	ID         string // the Initiator's id (UUID)
	ReceiverID string
	ConsentID  string
	HolderID   string
	// Reference is "zero" for the first payment, else the cycle start date
	// (YYYY-MM-DD); at most one live charge per (ConsentID, Reference).
	Reference string
	Amount    consent.Amount
	// DueDate is the settlement date of the original attempt.
	DueDate consent.Date
	Status  ChargeStatus
	// FailureCode is the last rejection code, as received (kept for the
	// ITP; receivers get ReceiverReason).
	FailureCode payments.RejectionCode
	// Description is the receiver's free text (remittanceInformation).
	Description string
	// ExternalID is the receiver's own id for the charge (invoice number),
	// unique per receiver when set.
	ExternalID string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int64
}

// AttemptState is where an attempt stands in its submission.
type AttemptState string

// Attempt states. The state moves forward only:
// PLANNED → SENDING → SUBMITTED, or SENDING → UNKNOWN (the answer was lost)
// → SUBMITTED once reconciled by reading the bank.
const (
	// AttemptPlanned: E2EID and idempotency key stored; nothing sent.
	AttemptPlanned AttemptState = "PLANNED"
	// AttemptSending: the request may have left; its outcome is not stored.
	// After a crash it is reconciled by reading the bank before anything is
	// sent again.
	AttemptSending AttemptState = "SENDING"
	// AttemptSubmitted: the bank answered; PaymentID and Status are set.
	AttemptSubmitted AttemptState = "SUBMITTED"
	// AttemptRefused: the bank refused it synchronously (422) or the SDK's
	// checks did; nothing exists at the bank.
	AttemptRefused AttemptState = "REFUSED"
)

// AttemptRecord is one POST to the bank for a charge: the original or a
// retry. Its E2EID and idempotency key are stored before the request leaves.
type AttemptRecord struct {
	ID        string // the Initiator's id (UUID)
	ChargeID  string
	ConsentID string
	// Seq is 0 for the original, 1.. for retries.
	Seq            int
	Kind           payments.AttemptKind
	EndToEndID     string // unique
	IdempotencyKey string // unique
	Date           consent.Date
	State          AttemptState
	// SubmitAt is when the attempt is due to be sent (the scheduler's
	// key for PLANNED and SENDING attempts).
	SubmitAt time.Time
	// PaymentID is the bank's recurringPaymentId once known.
	PaymentID string
	// Status is the bank's payment status once known.
	Status        payments.Status
	RejectionCode payments.RejectionCode
	// Request is the JSON of the payments.Request sent (or to send): a
	// resend must carry the same data under the same idempotency key.
	Request []byte
	// NextCheckAt is when the payment should next be read from the bank.
	NextCheckAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// ChargePlan is a charge with its first attempt, for InsertCharges.
type ChargePlan struct {
	Charge *ChargeRecord
	First  *AttemptRecord
}

// ConsentFilter selects consents. Zero fields do not filter.
type ConsentFilter struct {
	ReceiverID string
	HolderID   string
	Statuses   []consent.Status
	// CheckDueBefore selects consents whose NextCheckAt is set and before it.
	CheckDueBefore time.Time
	// After is a keyset cursor: only IDs greater than it (results are in ID
	// order).
	After string
	Limit int // 0: no limit
}

// ChargeFilter selects charges. Zero fields do not filter.
type ChargeFilter struct {
	ReceiverID string
	ConsentID  string
	// ExternalID selects the charge with the receiver's own id (use it
	// with ReceiverID: the pair is unique).
	ExternalID string
	Statuses   []ChargeStatus
	// DueFrom and DueTo bound DueDate, inclusive.
	DueFrom, DueTo consent.Date
	// UpdatedSince selects charges updated at or after it.
	UpdatedSince time.Time
	After        string // keyset cursor on ID
	Limit        int
}

// AttemptFilter selects attempts for the scheduler. Zero fields do not
// filter.
type AttemptFilter struct {
	States []AttemptState
	// SubmitBefore selects attempts whose SubmitAt is at or before it.
	SubmitBefore time.Time
	// CheckDueBefore selects attempts whose NextCheckAt is set and at or
	// before it.
	CheckDueBefore time.Time
	Limit          int
}

// Store is the Initiator's persistence. Implementations live in
// pixauto/store/sqlite and pixauto/store/postgres and pass the shared
// conformance suite in pixauto/store/storetest. Every method is safe for
// concurrent use, including from several processes on one database.
type Store interface {
	// InsertConsent stores a new consent; ErrConflict if its ID exists.
	InsertConsent(ctx context.Context, c *ConsentRecord) error
	// UpdateConsent replaces a consent if its Version matches the stored
	// one (else ErrConflict), and increments c.Version.
	UpdateConsent(ctx context.Context, c *ConsentRecord) error
	// GetConsent returns a consent or ErrNotFound.
	GetConsent(ctx context.Context, id string) (*ConsentRecord, error)
	// ListConsents streams consents in ID order.
	ListConsents(ctx context.Context, f ConsentFilter) iter.Seq2[*ConsentRecord, error]

	// PutAuthorization stores a pending authorization.
	PutAuthorization(ctx context.Context, a *AuthorizationRecord) error
	// TakeAuthorization returns and deletes the authorization with that
	// state (single use); ErrNotFound if there is none.
	TakeAuthorization(ctx context.Context, state string) (*AuthorizationRecord, error)

	// DeleteExpiredAuthorizations deletes the authorizations whose
	// ExpiresAt is before before, and returns how many it deleted. A zero
	// ExpiresAt counts as the zero time (expired, as Enrol sees it), and
	// the stored, microsecond ExpiresAt is compared; nothing is before the
	// zero time.
	DeleteExpiredAuthorizations(ctx context.Context, before time.Time) (int, error)

	// PutSecret stores an opaque (already encrypted) value, replacing any
	// older one: refresh tokens live here.
	PutSecret(ctx context.Context, key string, value []byte) error
	// GetSecret returns a secret or ErrNotFound.
	GetSecret(ctx context.Context, key string) ([]byte, error)

	// InsertCharge stores a new charge with its first attempt, in one
	// transaction. ErrConflict if the consent already has a live (not
	// FAILED or CANCELLED) charge for the same Reference, or if the E2EID,
	// idempotency key or (ReceiverID, ExternalID) is taken.
	InsertCharge(ctx context.Context, c *ChargeRecord, first *AttemptRecord) error
	// InsertCharges stores many charges, each with its first attempt, in
	// as few transactions as it can (a billing run). A plan that breaks a
	// uniqueness rule of InsertCharge is skipped — not stored, its index
	// returned in skipped — and the others are stored. err reports a
	// failure that stored nothing of the plans not yet committed.
	//
	// The plans are taken in order, as by InsertCharge one at a time: a
	// plan is skipped if it breaks a rule against the stored records or
	// against a plan stored before it in the batch, or if its consent is
	// not stored (where InsertCharge says ErrNotFound). A skipped plan is
	// skipped whole: neither its charge nor its first attempt is stored,
	// and it holds nothing a later plan may need. skipped is in increasing
	// order, empty when every plan was stored. A malformed plan (no
	// charge, or a first attempt that does not name its charge and
	// consent) is the caller's bug: it fails the call before anything is
	// stored. The stores of this module use one transaction per call, so
	// an error stores nothing at all; callers choose the batch size.
	InsertCharges(ctx context.Context, plans []ChargePlan) (skipped []int, err error)
	// UpdateCharge replaces a charge if its Version matches (else
	// ErrConflict), and increments c.Version.
	UpdateCharge(ctx context.Context, c *ChargeRecord) error
	// GetCharge returns a charge or ErrNotFound.
	GetCharge(ctx context.Context, id string) (*ChargeRecord, error)
	// ListCharges streams charges in ID order.
	ListCharges(ctx context.Context, f ChargeFilter) iter.Seq2[*ChargeRecord, error]

	// InsertAttempt stores a new attempt (a retry). ErrConflict if its
	// E2EID or idempotency key is taken, or (ChargeID, Seq) exists.
	InsertAttempt(ctx context.Context, a *AttemptRecord) error
	// UpdateAttempt replaces an attempt if its Version matches (else
	// ErrConflict), and increments a.Version.
	UpdateAttempt(ctx context.Context, a *AttemptRecord) error
	// GetAttempt returns an attempt or ErrNotFound.
	GetAttempt(ctx context.Context, id string) (*AttemptRecord, error)
	// AttemptByPaymentID returns the attempt the bank knows by paymentID,
	// or ErrNotFound.
	AttemptByPaymentID(ctx context.Context, paymentID string) (*AttemptRecord, error)
	// ListAttempts returns a charge's attempts in Seq order.
	ListAttempts(ctx context.Context, chargeID string) ([]*AttemptRecord, error)
	// DueAttempts returns attempts matching f, oldest SubmitAt first.
	DueAttempts(ctx context.Context, f AttemptFilter) ([]*AttemptRecord, error)

	// Close releases the store's resources.
	Close() error
}
