package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/migration"
)

func migrationCount(t *testing.T) int {
	t.Helper()
	ms, err := migration.Load(migrations, "migrations")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	return len(ms)
}

func appliedMigrations(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM pixauto_migration`).Scan(&n))
	return n
}

// fakeTB records what testURLFrom decides; Skip and Fatal end the call
// with a panic, as the real ones end the goroutine.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

var errStop = errors.New("stop")

func (f *fakeTB) Helper()                  {}
func (f *fakeTB) Skip(args ...any)         { f.skipped = fmt.Sprint(args...); panic(errStop) }
func (f *fakeTB) Fatal(args ...any)        { f.failed = fmt.Sprint(args...); panic(errStop) }
func (f *fakeTB) Context() context.Context { return context.Background() }

func TestTestURL(t *testing.T) {
	t.Parallel()
	run := func(env map[string]string) (f *fakeTB, url string) {
		f = &fakeTB{}
		defer func() {
			if r := recover(); r != nil && r != errStop {
				panic(r)
			}
		}()
		url = testURLFrom(f, func(k string) string { return env[k] })
		return f, url
	}

	f, u := run(map[string]string{})
	require.Contains(t, f.skipped, "PIXAUTO_TEST_POSTGRES_URL is not set")
	require.Empty(t, f.failed)
	require.Empty(t, u)

	f, _ = run(map[string]string{"CI": "true"})
	require.Contains(t, f.failed, "CI is set")
	require.Empty(t, f.skipped)

	f, u = run(map[string]string{"CI": "true", "PIXAUTO_TEST_POSTGRES_URL": "postgres://x"})
	require.Empty(t, f.failed)
	require.Empty(t, f.skipped)
	require.Equal(t, "postgres://x", u)
}

func TestOpenConcurrent(t *testing.T) {
	t.Parallel()
	// Several Opens on one new schema at once, as several processes
	// starting together would: the advisory lock lets each migration be
	// applied once, and no Open fails.
	dsn := testSchema(t)
	const n = 5
	stores := make([]*Store, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s, err := Open(t.Context(), dsn)
			stores[i] = s
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	for _, s := range stores {
		require.Equal(t, migrationCount(t), appliedMigrations(t, s.Pool()))
		require.NoError(t, s.Close())
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), "postgres://%zz")
	require.ErrorContains(t, err, "postgres: open: ")

	// A search_path naming no existing schema leaves nowhere to migrate.
	u, err := url.Parse(testURL(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", "pixauto_test_no_such_schema")
	u.RawQuery = q.Encode()
	_, err = Open(t.Context(), u.String())
	require.ErrorContains(t, err, "postgres: open: migrate: ")
	require.ErrorContains(t, err, "no schema has been selected")
}

func TestNewAndMigrate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, testSchema(t))
	require.NoError(t, err)
	defer pool.Close()

	s := New(pool)
	require.Same(t, pool, s.Pool())
	_, err = s.GetSecret(ctx, "k")
	require.Error(t, err, "New does not migrate")
	require.NotErrorIs(t, err, pixauto.ErrNotFound)

	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx), "Migrate is idempotent")
	require.Equal(t, migrationCount(t), appliedMigrations(t, pool))
	require.NoError(t, s.PutSecret(ctx, "k", []byte("v")))

	require.NoError(t, s.Close())
	require.NoError(t, pool.Ping(ctx), "Close leaves a caller's pool open")

	_, err = pool.Exec(ctx, `INSERT INTO pixauto_migration (version, name) VALUES (999, '0999_future.sql')`)
	require.NoError(t, err)
	require.ErrorContains(t, s.Migrate(ctx), "postgres: migrate: the database is at version 999, newer than this program's")
}

func TestIDsCompareInByteOrder(t *testing.T) {
	t.Parallel()
	// The suite's paging tests cannot tell on a database whose default
	// collation is already C; the columns say it whatever the default.
	s := openTest(t)
	rows, err := s.Pool().Query(t.Context(), `SELECT table_name || '.' || column_name, COALESCE(collation_name, '')
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name IN ('id', 'consent_id', 'charge_id')
			AND table_name IN ('pixauto_consent', 'pixauto_charge', 'pixauto_attempt')`)
	require.NoError(t, err)
	got := map[string]string{}
	for rows.Next() {
		var col, coll string
		require.NoError(t, rows.Scan(&col, &coll))
		got[col] = coll
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]string{
		"pixauto_consent.id": "C", "pixauto_charge.id": "C", "pixauto_charge.consent_id": "C",
		"pixauto_attempt.id": "C", "pixauto_attempt.charge_id": "C", "pixauto_attempt.consent_id": "C",
	}, got)
}

func TestStreamHoldsOneConnection(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	require.NoError(t, s.InsertConsent(ctx, &pixauto.ConsentRecord{ID: "k1"}))
	for i := range 3 {
		id := fmt.Sprintf("ch%d", i)
		require.NoError(t, s.InsertCharge(ctx, &pixauto.ChargeRecord{ID: id, ConsentID: "k1", Reference: id},
			&pixauto.AttemptRecord{ID: id, ChargeID: id, ConsentID: "k1", EndToEndID: id, IdempotencyKey: id}))
	}
	n := 0
	for _, err := range s.ListCharges(ctx, pixauto.ChargeFilter{}) {
		require.NoError(t, err)
		require.EqualValues(t, 1, s.Pool().Stat().AcquiredConns(), "the rows are read as the loop goes")
		n++
		if n == 2 {
			break
		}
	}
	require.EqualValues(t, 0, s.Pool().Stat().AcquiredConns(), "breaking out of the loop releases the connection")
	for _, err := range s.ListConsents(ctx, pixauto.ConsentFilter{}) {
		require.NoError(t, err)
		require.EqualValues(t, 1, s.Pool().Stat().AcquiredConns())
	}
	require.EqualValues(t, 0, s.Pool().Stat().AcquiredConns())
}

func TestErrorsNameTheOperation(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	err := s.UpdateCharge(ctx, &pixauto.ChargeRecord{ID: "ch1"})
	require.EqualError(t, err, "postgres: update charge ch1: pixauto: not found")

	require.NoError(t, s.InsertConsent(ctx, &pixauto.ConsentRecord{ID: "k1"}))
	err = s.InsertConsent(ctx, &pixauto.ConsentRecord{ID: "k1"})
	require.ErrorContains(t, err, "postgres: insert consent k1: pixauto: conflict (")
	require.ErrorContains(t, err, "pixauto_consent_pkey")

	c := &pixauto.ConsentRecord{ID: "k1"}
	require.NoError(t, s.UpdateConsent(ctx, c))
	c.Version = 0
	require.EqualError(t, s.UpdateConsent(ctx, c),
		"postgres: update consent k1: pixauto: conflict: the record changed since it was read (stale version)")

	err = s.InsertCharge(ctx, &pixauto.ChargeRecord{ID: "ch1", ConsentID: "k1", Reference: "r"},
		&pixauto.AttemptRecord{ID: "a1", ChargeID: "ch1", ConsentID: "k1", EndToEndID: "E-SECRET-ISH", IdempotencyKey: "i"})
	require.NoError(t, err)
	err = s.InsertAttempt(ctx, &pixauto.AttemptRecord{ID: "a2", ChargeID: "ch1", ConsentID: "k1", Seq: 1,
		EndToEndID: "E-SECRET-ISH", IdempotencyKey: "j"})
	require.ErrorIs(t, err, pixauto.ErrConflict)
	require.ErrorContains(t, err, "postgres: insert attempt a2: pixauto: conflict (")
	require.NotContains(t, err.Error(), "E-SECRET-ISH", "values stay out of messages (PgError.Detail is not printed)")
}

func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	sealed := []byte("SEALED-VALUE")
	require.NoError(t, s.PutAuthorization(ctx, &pixauto.AuthorizationRecord{State: "STATE-VALUE", Sealed: sealed}))
	err := s.PutAuthorization(ctx, &pixauto.AuthorizationRecord{State: "STATE-VALUE", Sealed: sealed})
	require.ErrorIs(t, err, pixauto.ErrConflict)
	require.NotContains(t, err.Error(), "SEALED-VALUE")
	require.NotContains(t, err.Error(), "STATE-VALUE", "the OAuth state is not in the message")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = s.PutSecret(cctx, "k", []byte("SECRET-VALUE"))
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, err.Error(), "SECRET-VALUE")
}
