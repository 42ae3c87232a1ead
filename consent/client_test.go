package consent_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A request that breaks a rule is refused before it leaves: the bank sees
// no POST.
func TestClientCreateValidatesBeforeSending(t *testing.T) {
	t.Parallel()
	e := sandboxtest.New(t, sandboxtest.Options{})
	req := e.ConsentRequest(func(r *consent.CreateRequest) {
		r.Creditors = append(r.Creditors, consent.NewCreditor("11222333000262", "Outra Ltda"))
	})
	_, err := e.Consents.Create(context.Background(), req, fapi.NewIdempotencyKey(nil))
	var ve consent.ValidationErrors
	require.ErrorAs(t, err, &ve)
	require.NotNil(t, ve.Field("creditors"), "%v", err)
	for _, r := range e.Bank.Requests() {
		assert.False(t, strings.HasSuffix(r.Path, "/recurring-consents"), "the bank must not see %s %s", r.Method, r.Path)
	}
}

func TestClientCreateAndGet(t *testing.T) {
	t.Parallel()
	e := sandboxtest.New(t, sandboxtest.Options{})
	ctx := context.Background()
	key := fapi.NewIdempotencyKey(nil)
	c, err := e.Consents.Create(ctx, e.ConsentRequest(), key)
	require.NoError(t, err)
	again, err := e.Consents.Create(ctx, e.ConsentRequest(), key)
	require.NoError(t, err, "the same key and data return the same consent")
	assert.Equal(t, c.RecurringConsentID, again.RecurringConsentID)

	got, err := e.Consents.Get(ctx, c.RecurringConsentID)
	require.NoError(t, err)
	assert.Equal(t, consent.StatusAwaitingAuthorisation, got.Status)
	assert.Equal(t, consent.IntervalMensal, got.Automatic().Interval)

	_, err = e.Consents.Create(ctx, e.ConsentRequest(func(r *consent.CreateRequest) { r.AdditionalInformation = "changed" }), key)
	var ae *fapi.APIError
	require.ErrorAs(t, err, &ae)
	assert.True(t, ae.HasCode("ERRO_IDEMPOTENCIA"), "%v", err)
	assert.True(t, ae.Signed, "a 422 is a signed message")

	_, err = e.Consents.Get(ctx, "not-a-urn")
	assert.True(t, errors.Is(err, consent.ErrFormat))
}
