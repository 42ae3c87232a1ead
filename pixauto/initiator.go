package pixauto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
)

// Holder is a bank (detentora) the Initiator works with.
type Holder struct {
	// ID is the Initiator's name for the bank, stored with every record.
	ID string
	// FAPI is the security client of the bank.
	FAPI *fapi.Client
	// BaseURL is the automatic-payments base on the bank's mTLS host
	// (…/open-banking/automatic-payments/v2).
	BaseURL string
	// Version forces the wire version; empty learns it from the bank.
	Version payments.Version
	// RetryGrant picks the token of 2.2.0 retries.
	RetryGrant payments.RetryGrant
}

// Config configures an Initiator.
type Config struct {
	// CNPJ is the ITP's CNPJ (cnpjInitiator). Required.
	CNPJ string
	// ISPB is the ITP's ISPB, the first part of every E2EID. Required.
	ISPB string
	// Holders are the banks. At least one is required.
	Holders []Holder
	// Store persists everything. Required.
	Store Store
	// SecretKey (32 bytes) encrypts refresh tokens and PKCE verifiers at
	// rest with AES-256-GCM. Required. It is never logged.
	SecretKey []byte
	// RetryPolicy is the receivers' retry policy for automatic retries; its
	// zero value retries everything the spec allows.
	RetryPolicy payments.RetryPolicy
	// LeadDays is how many days before the due date a recurrence is
	// submitted to the bank, within the spec's 2–10. Zero means 5.
	LeadDays int
	// DueDates moves due dates that are not business days; the zero value
	// keeps them (Pix Automático settles on any day).
	DueDates payments.DueDatePolicy
	// Calendar is the business-day calendar; nil means the national one.
	Calendar *payments.Calendar
	// OnEvent receives every state change after it is stored. It is called
	// synchronously and must not block for long. Nil discards events.
	OnEvent func(Event)
	// Clock tells the time. Nil means the system clock.
	Clock fapi.Clock
	// Rand feeds ids, keys and E2EIDs. Nil means crypto/rand.
	Rand io.Reader
	// Logger receives diagnostics; secrets are never logged. Nil discards.
	Logger *slog.Logger
}

// Initiator runs the whole life of Pix Automático agreements for an ITP:
// enrolment, authorization, charges, retries, cancellation, edits,
// revocation and reconciliation. It keeps everything in a Store, and every
// step is safe to repeat after a crash. It is safe for concurrent use, and
// several Initiators may share one database.
type Initiator struct {
	cfg     Config
	store   Store
	seal    *sealer
	clock   fapi.Clock
	log     *slog.Logger
	gen     *payments.Generator
	holders map[string]*holder
	tokens  tokenCache
}

type holder struct {
	Holder
	consents *consent.Client
	payments *payments.Client
}

// New validates cfg and returns an Initiator.
func New(cfg Config) (*Initiator, error) {
	switch {
	case !consent.IsCNPJ(cfg.CNPJ):
		return nil, fmt.Errorf("pixauto: Config.CNPJ %q is not a CNPJ", cfg.CNPJ)
	case len(cfg.ISPB) != 8:
		return nil, fmt.Errorf("pixauto: Config.ISPB %q must have 8 characters", cfg.ISPB)
	case cfg.Store == nil:
		return nil, errors.New("pixauto: Config.Store is required")
	case len(cfg.Holders) == 0:
		return nil, errors.New("pixauto: Config.Holders needs at least one bank")
	case cfg.LeadDays != 0 && (cfg.LeadDays < 2 || cfg.LeadDays > 10):
		return nil, fmt.Errorf("pixauto: Config.LeadDays %d is outside 2–10", cfg.LeadDays)
	}
	s, err := newSealer(cfg.SecretKey, cfg.Rand)
	if err != nil {
		return nil, err
	}
	in := &Initiator{cfg: cfg, store: cfg.Store, seal: s, clock: cfg.Clock, log: cfg.Logger, holders: map[string]*holder{}}
	if in.clock == nil {
		in.clock = fapi.ClockFunc(time.Now)
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.cfg.LeadDays == 0 {
		in.cfg.LeadDays = 5
	}
	// E2EIDs are unique in the store (a unique index, across restarts and
	// processes); the generator's own memory only needs to catch a broken
	// random source, so a small window keeps memory flat.
	in.gen = &payments.Generator{ISPB: cfg.ISPB, Rand: cfg.Rand, Remember: 4096}
	for _, h := range cfg.Holders {
		if err := in.addHolder(h); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (in *Initiator) addHolder(h Holder) error {
	if h.ID == "" || h.FAPI == nil {
		return errors.New("pixauto: every Holder needs an ID and a FAPI client")
	}
	if _, dup := in.holders[h.ID]; dup {
		return fmt.Errorf("pixauto: Holder %q is configured twice", h.ID)
	}
	cc, err := consent.NewClient(consent.ClientConfig{FAPI: h.FAPI, BaseURL: h.BaseURL, Clock: in.clock})
	if err != nil {
		return fmt.Errorf("pixauto: Holder %q: %w", h.ID, err)
	}
	pc, err := payments.NewClient(payments.ClientConfig{
		FAPI: h.FAPI, BaseURL: h.BaseURL, Version: h.Version, RetryGrant: h.RetryGrant, Clock: in.clock,
		Validator: &payments.Validator{ISPB: in.cfg.ISPB, CNPJInitiator: in.cfg.CNPJ, WeeklyFiveDays: in.cfg.RetryPolicy.WeeklyFiveDays},
	})
	if err != nil {
		return fmt.Errorf("pixauto: Holder %q: %w", h.ID, err)
	}
	in.holders[h.ID] = &holder{Holder: h, consents: cc, payments: pc}
	return nil
}

// ErrUnknownHolder: a record names a bank that is not configured.
var ErrUnknownHolder = errors.New("pixauto: unknown holder")

func (in *Initiator) holder(id string) (*holder, error) {
	h, ok := in.holders[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownHolder, id)
	}
	return h, nil
}

func (in *Initiator) now() time.Time { return in.clock.Now().UTC() }

func (in *Initiator) newID() string {
	if in.cfg.Rand == nil {
		return uuid.NewString()
	}
	u, err := uuid.NewRandomFromReader(in.cfg.Rand)
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}

func (in *Initiator) emit(e Event) {
	if in.cfg.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = in.now()
	}
	if e.ReasonText == "" && e.Reason != "" {
		e.ReasonText = e.Reason.Text()
	}
	in.cfg.OnEvent(e)
}

// refreshTokenStore adapts the Store to fapi.RefreshTokenStore, sealing
// tokens at rest.
type refreshTokenStore struct{ in *Initiator }

func rtKey(consentID string) string { return "refresh_token:" + consentID }

func (r refreshTokenStore) LoadRefreshToken(ctx context.Context, consentID string) (string, error) {
	sealed, err := r.in.store.GetSecret(ctx, rtKey(consentID))
	if errors.Is(err, ErrNotFound) {
		return "", fapi.ErrNoRefreshToken
	}
	if err != nil {
		return "", err
	}
	plain, err := r.in.seal.open(sealed, rtKey(consentID))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

func (r refreshTokenStore) SaveRefreshToken(ctx context.Context, consentID, token string) error {
	sealed, err := r.in.seal.seal([]byte(token), rtKey(consentID))
	if err != nil {
		return err
	}
	return r.in.store.PutSecret(ctx, rtKey(consentID), sealed)
}
