package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthorizeRunsTheWholeJourney(t *testing.T) {
	var out, errOut bytes.Buffer
	err := NewMain(&out, &errOut).Run(context.Background(), []string{"authorize"})
	require.NoError(t, err, errOut.String())
	for _, want := range []string{
		"discovery: issuer checked",
		"client_credentials token",
		"signed response was verified",
		"pushed authorization request",
		"id_token decrypted (RSA-OAEP/A256GCM), verified (PS256) and checked",
		"code exchanged with the PKCE verifier",
		"payment created with the consent's token: HTTP 201",
		"refresh_token grant",
	} {
		assert.Contains(t, out.String(), want)
	}
}

func TestAuthorizeReportsAPayerRefusal(t *testing.T) {
	var out, errOut bytes.Buffer
	err := NewMain(&out, &errOut).Run(context.Background(), []string{"authorize", "-deny"})
	var oe *fapi.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "access_denied", oe.Code)
	assert.Contains(t, out.String(), "authorization refused")
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	require.ErrorIs(t, NewMain(&out, &errOut).Run(context.Background(), nil), flag.ErrHelp)
	assert.True(t, strings.Contains(errOut.String(), "Commands:"))
	require.Error(t, NewMain(&out, &errOut).Run(context.Background(), []string{"nope"}))
}

func TestDemoTellsTheWholeStory(t *testing.T) {
	var out, errOut bytes.Buffer
	err := NewMain(&out, &errOut).Run(context.Background(), []string{"demo", "-months", "10"})
	require.NoError(t, err, errOut.String())
	s := out.String()
	for _, want := range []string{
		"consent   AUTHORISED",
		"charge 1  SCHEDULED",
		"charge 1  SETTLED",
		"charge 3  RETRYING",
		"charge 3  SETTLED",
		"charge 6  RETRYING",
		"charge 9  FAILED — The payer's bank refused the payment.",
		"Summary: 9 charges settled (R$ 1.169,10), 1 failed; 15 payments sent, 15 held by the bank — each exactly once.",
	} {
		assert.Contains(t, s, want)
	}
	for _, once := range []string{"charge 3  RETRYING", "charge 6  RETRYING", "charge 1  SCHEDULED"} {
		assert.Equal(t, 1, strings.Count(s, once), "%q is a state change, reported once", once)
	}
	assert.NotContains(t, s, "SALDO_INSUFICIENTE", "balance reasons are never shown as such")
}

func TestDemoRejectsBadMonths(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Error(t, NewMain(&out, &errOut).Run(context.Background(), []string{"demo", "-months", "0"}))
}
