package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/storetest"
)

// testURL returns PIXAUTO_TEST_POSTGRES_URL. Without it the test is
// skipped, unless CI is set: there a missing database is a failure, not a
// reason to pass.
func testURL(t testing.TB) string {
	t.Helper()
	return testURLFrom(t, os.Getenv)
}

func testURLFrom(t testing.TB, getenv func(string) string) string {
	t.Helper()
	u := getenv("PIXAUTO_TEST_POSTGRES_URL")
	if u == "" {
		const msg = "PIXAUTO_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)"
		if getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so the PostgreSQL tests must run")
		}
		t.Skip(msg + "; skipping the PostgreSQL tests")
	}
	return u
}

// testSchema creates a schema of the test's own, dropped when the test
// ends, and returns the test URL with search_path set to it, so that every
// connection of a pool opened on it works in that schema.
func testSchema(t testing.TB) string {
	t.Helper()
	base := testURL(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "pixauto_test_" + hex.EncodeToString(b[:])

	ctx := t.Context()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		require.NoError(t, err)
	})

	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), testSchema(t))
	require.NoError(t, err)
	t.Cleanup(func() {
		// pgxpool's Close waits for every connection to come back: bound
		// it, so that a leaked one fails the test instead of hanging it.
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		select {
		case err := <-closed:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("Close did not return: a pool connection was never released")
		}
	})
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	testURL(t)
	storetest.Exercise(t, func(t *testing.T) pixauto.Store { return openTest(t) })
}
