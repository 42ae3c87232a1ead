package record

import (
	"testing"
	"time"

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

func TestCheckPlans(t *testing.T) {
	t.Parallel()
	c := &pixauto.ChargeRecord{ID: "c1", ConsentID: "k1"}
	ok := pixauto.ChargePlan{Charge: c, First: &pixauto.AttemptRecord{ID: "a", ChargeID: "c1", ConsentID: "k1"}}
	require.NoError(t, CheckPlans(nil))
	require.NoError(t, CheckPlans([]pixauto.ChargePlan{ok, ok}))
	for name, bad := range map[string]pixauto.ChargePlan{
		"NilCharge":  {First: ok.First},
		"NilAttempt": {Charge: c},
		"Foreign":    {Charge: c, First: &pixauto.AttemptRecord{ID: "a", ChargeID: "c2", ConsentID: "k1"}},
	} {
		err := CheckPlans([]pixauto.ChargePlan{ok, bad})
		require.ErrorIs(t, err, ErrFirstAttempt, name)
		require.ErrorContains(t, err, "plan 1", name)
	}
}

func TestExpiryBound(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 7, 1, 12, 0, 0, 123456000, time.UTC)
	for _, tc := range []struct {
		before time.Time
		want   time.Time
	}{
		{t0, t0},
		{t0.Add(time.Nanosecond), t0.Add(time.Microsecond)},
		{t0.Add(time.Microsecond - time.Nanosecond), t0.Add(time.Microsecond)},
		{t0.In(time.FixedZone("BRT", -3*60*60)), t0},
	} {
		got, ok := ExpiryBound(tc.before)
		require.True(t, ok)
		require.True(t, tc.want.Equal(got), "ExpiryBound(%s) = %s, want %s", tc.before, got, tc.want)
	}
	_, ok := ExpiryBound(time.Time{})
	require.False(t, ok)
	_, ok = ExpiryBound(time.Time{}.Add(-time.Hour))
	require.False(t, ok)
	got, ok := ExpiryBound(time.Time{}.Add(time.Nanosecond))
	require.True(t, ok)
	require.Equal(t, time.Time{}.Add(time.Microsecond), got)
}
