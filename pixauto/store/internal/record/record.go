package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
)

// ErrFirstAttempt is wrapped by CheckFirstAttempt's errors: the attempt
// given to InsertCharge does not belong to the charge.
var ErrFirstAttempt = errors.New("first attempt does not belong to the charge")

// CheckFirstAttempt reports whether a can be stored as c's first attempt:
// it must exist and name c and c's consent.
func CheckFirstAttempt(c *pixauto.ChargeRecord, a *pixauto.AttemptRecord) error {
	switch {
	case a == nil:
		return fmt.Errorf("%w: it is nil", ErrFirstAttempt)
	case a.ChargeID != c.ID:
		return fmt.Errorf("%w: attempt %s names charge %q, not %q", ErrFirstAttempt, a.ID, a.ChargeID, c.ID)
	case a.ConsentID != c.ConsentID:
		return fmt.Errorf("%w: attempt %s names consent %q, not %q", ErrFirstAttempt, a.ID, a.ConsentID, c.ConsentID)
	}
	return nil
}

// EncodeConsent returns the JSON of c, or nil for a nil consent.
func EncodeConsent(c *consent.Consent) ([]byte, error) {
	if c == nil {
		return nil, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode consent: %w", err)
	}
	return b, nil
}

// DecodeConsent decodes what EncodeConsent stored; nil data is a nil
// consent. The consent was checked when it was read from the bank, so it is
// decoded as is, not validated again.
func DecodeConsent(data []byte) (*consent.Consent, error) {
	if data == nil {
		return nil, nil
	}
	var c consent.Consent
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode consent: %w", err)
	}
	return &c, nil
}

// CheckPlans checks every plan of an InsertCharges call before anything is
// stored: each must have a charge, and a first attempt that CheckFirstAttempt
// accepts. A bad plan is the caller's bug, so it fails the whole call.
func CheckPlans(plans []pixauto.ChargePlan) error {
	for i, p := range plans {
		if p.Charge == nil {
			return fmt.Errorf("plan %d: %w: the plan has no charge", i, ErrFirstAttempt)
		}
		if err := CheckFirstAttempt(p.Charge, p.First); err != nil {
			return fmt.Errorf("plan %d (charge %s): %w", i, p.Charge.ID, err)
		}
	}
	return nil
}

// ExpiryBound returns the stored expiry below which an authorization is
// expired before before. Stores keep times truncated to the microsecond,
// so a stored time is before before exactly when it is before before
// rounded up to the microsecond. ok is false when nothing can be before
// before (it is the zero time or earlier); otherwise a zero (NULL)
// ExpiresAt counts as expired too, as it does for the Initiator.
func ExpiryBound(before time.Time) (bound time.Time, ok bool) {
	if !before.After(time.Time{}) {
		return time.Time{}, false
	}
	return before.Add(time.Microsecond - time.Nanosecond).Truncate(time.Microsecond), true
}
