package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto/store/postgres"
)

// postgresStore opens a PostgreSQL store in a schema of the test's own
// (PIXAUTO_TEST_POSTGRES_URL; skipped without it, unless CI is set).
func postgresStore(t *testing.T) testStore {
	base := os.Getenv("PIXAUTO_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PIXAUTO_TEST_POSTGRES_URL is not set; CI is set, so the PostgreSQL tests must run")
		}
		t.Skip("PIXAUTO_TEST_POSTGRES_URL is not set")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "pixauto_server_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(t.Context(), base)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	conn.Close(t.Context())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		require.NoError(t, err)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(t.Context(), u.String())
	require.NoError(t, err)
	return st
}

// The same server on PostgreSQL: enrol, charge, settle, webhooks, isolation.
func TestJourneyOnPostgres(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{store: postgresStore})
	hooks := newHookReceiver(t, e.Clock.Now)
	subID := e.subscribe(e.keyA, hooks)
	consentID := e.enrol(e.keyA)
	due := e.Today().AddDays(3)
	ch := e.charge(e.keyA, consentID, due, "150.00")
	e.runUntil(sandboxtest.At(due, 12, 0), 3*time.Hour)
	got := e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+ch["id"].(string), e.keyA, nil))
	assert.Equal(t, "SETTLED", got["status"])
	e.problemOf(http.StatusNotFound, "not_found", e.do("GET", "/v1/charges/"+ch["id"].(string), e.keyB, nil))
	e.deliver()
	assert.Equal(t, []string{"consent.created", "consent.authorised", "charge.planned", "charge.scheduled", "charge.settled"}, hooks.types())
	ds := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries?limit=2", e.keyA, nil))
	assert.Len(t, ds["data"], 2)
	assert.NotEmpty(t, ds["next_cursor"])
	ready := e.ok(http.StatusOK, e.do("GET", "/readyz", "", nil))
	assert.Equal(t, "ok", ready["checks"].(map[string]any)["database"])
}
