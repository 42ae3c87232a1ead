package record

import (
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/stretchr/testify/require"
)

func TestCheckFirstAttempt(t *testing.T) {
	t.Parallel()
	c := &pixauto.ChargeRecord{ID: "c1", ConsentID: "k1"}
	require.NoError(t, CheckFirstAttempt(c, &pixauto.AttemptRecord{ID: "a", ChargeID: "c1", ConsentID: "k1"}))
	for name, a := range map[string]*pixauto.AttemptRecord{
		"Nil":          nil,
		"OtherCharge":  {ID: "a", ChargeID: "c2", ConsentID: "k1"},
		"OtherConsent": {ID: "a", ChargeID: "c1", ConsentID: "k2"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, CheckFirstAttempt(c, a), ErrFirstAttempt)
		})
	}
}

func TestConsentCodec(t *testing.T) {
	t.Parallel()

	b, err := EncodeConsent(nil)
	require.NoError(t, err)
	require.Nil(t, b)
	got, err := DecodeConsent(nil)
	require.NoError(t, err)
	require.Nil(t, got)

	// The zero consent has zero date-times, which the wire form refuses.
	_, err = EncodeConsent(&consent.Consent{})
	require.ErrorIs(t, err, consent.ErrInvalidValue)

	_, err = DecodeConsent([]byte("{"))
	require.Error(t, err)
}
