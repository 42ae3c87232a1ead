package record

import (
	"encoding/json"
	"errors"
	"fmt"

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
