package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
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

func appliedMigrations(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM pixauto_migration`).Scan(&n))
	return n
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		path string
		opts []Option
	}{
		"Empty":     {"", nil},
		"Memory":    {":memory:", nil},
		"URI":       {"file:" + filepath.Join(dir, "x.db") + "?mode=rwc", nil},
		"NoReaders": {filepath.Join(dir, "y.db"), []Option{WithReadConns(0)}},
		"NoCache":   {filepath.Join(dir, "c.db"), []Option{WithCacheSize(1023)}},
		"NoDir":     {filepath.Join(dir, "missing", "z.db"), nil},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(t.Context(), tc.path, tc.opts...)
			require.Error(t, err)
			require.Nil(t, s)
			require.ErrorContains(t, err, "sqlite: open: ")
		})
	}
}

func TestOpenSettings(t *testing.T) {
	t.Parallel()
	s := openTest(t, WithBusyTimeout(1234*time.Millisecond))
	ctx := t.Context()
	for name, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "1234", "synchronous": "2", "query_only": "0",
		"cache_size": "-65536", "wal_autocheckpoint": "10000",
	} {
		var v string
		require.NoError(t, s.write.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v))
		require.Equal(t, want, v, "write pool: %s", name)
	}
	for name, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "1234", "query_only": "1",
	} {
		var v string
		require.NoError(t, s.read.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v))
		require.Equal(t, want, v, "read pool: %s", name)
	}
	require.Equal(t, 1, s.DB().Stats().MaxOpenConnections)
	require.Equal(t, 4, s.read.Stats().MaxOpenConnections)

	_, err := s.read.ExecContext(ctx, `DELETE FROM pixauto_secret`)
	require.Error(t, err, "the read pool must not write")
}

func TestOpenCacheSize(t *testing.T) {
	t.Parallel()
	s := openTest(t, WithCacheSize(8<<20))
	var v string
	require.NoError(t, s.write.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&v))
	require.Equal(t, "-8192", v, "8 MiB, in KiB")
	require.NoError(t, s.read.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&v))
	require.Equal(t, "-2000", v, "read connections keep SQLite's default")
}

func TestOpenAgain(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a?b#c%d.db") // URI metacharacters in the name
	s, err := Open(t.Context(), path)
	require.NoError(t, err)
	require.NoError(t, s.PutSecret(t.Context(), "k", []byte("v")))
	require.Equal(t, migrationCount(t), appliedMigrations(t, s))
	require.NoError(t, s.Close())

	s, err = Open(t.Context(), path)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, migrationCount(t), appliedMigrations(t, s), "migrations are applied once")
	v, err := s.GetSecret(t.Context(), "k")
	require.NoError(t, err)
	require.Equal(t, []byte("v"), v)
	require.FileExists(t, path)
}

func TestOpenConcurrent(t *testing.T) {
	t.Parallel()
	// Several Opens of a new file at once, as several processes starting
	// together would: each migration is applied once, and no Open fails.
	path := filepath.Join(t.TempDir(), "pixauto.db")
	const n = 6
	stores := make([]*Store, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s, err := Open(t.Context(), path)
			stores[i] = s
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	for _, s := range stores {
		require.Equal(t, migrationCount(t), appliedMigrations(t, s))
		require.NoError(t, s.Close())
	}
}

func TestOpenNewerDatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pixauto.db")
	s, err := Open(t.Context(), path)
	require.NoError(t, err)
	_, err = s.DB().ExecContext(t.Context(), `INSERT INTO pixauto_migration VALUES (999, '0999_future.sql', '')`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(t.Context(), path)
	require.ErrorContains(t, err, "newer than this program")
}

// TestTwoProcesses runs writers through two Stores on one file: two sets of
// connections, as two processes would have. SQLite's lock is then the only
// arbiter, and busy_timeout plus BEGIN IMMEDIATE must keep every write from
// failing with SQLITE_BUSY.
func TestTwoProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pixauto.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(t.Context(), path)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		stores[i] = s
	}
	ctx := t.Context()
	require.NoError(t, stores[0].InsertConsent(ctx, &pixauto.ConsentRecord{ID: "k1"}))

	// Many inserts from both at once.
	const perStore = 25
	errs := make(chan error, 2*perStore)
	for i, s := range stores {
		for j := range perStore {
			go func() {
				id := fmt.Sprintf("ch-%d-%d", i, j)
				c := &pixauto.ChargeRecord{ID: id, ConsentID: "k1", Reference: id, Status: pixauto.ChargePlanned}
				errs <- s.InsertCharge(ctx, c, &pixauto.AttemptRecord{
					ID: id + "-0", ChargeID: id, ConsentID: "k1", EndToEndID: "e" + id, IdempotencyKey: "i" + id,
				})
			}()
		}
	}
	for range 2 * perStore {
		require.NoError(t, <-errs)
	}

	// Optimistic updates of one charge from both: one winner per version.
	for round := range 3 {
		read, err := stores[1].GetCharge(ctx, "ch-0-0")
		require.NoError(t, err)
		results := make(chan error, 8)
		for i := range 8 {
			go func() {
				c := *read
				c.Amount = consent.Amount(i)
				results <- stores[i%2].UpdateCharge(ctx, &c)
			}()
		}
		wins := 0
		for range 8 {
			err := <-results
			if err == nil {
				wins++
				continue
			}
			require.ErrorIs(t, err, pixauto.ErrConflict)
		}
		require.Equal(t, 1, wins, "round %d", round)
	}
	got, err := stores[0].GetCharge(ctx, "ch-0-0")
	require.NoError(t, err)
	require.EqualValues(t, 3, got.Version)
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
		// The rows are read as the loop goes: a cursor is open.
		require.Equal(t, 1, s.read.Stats().InUse)
		n++
		if n == 2 {
			break
		}
	}
	require.Equal(t, 0, s.read.Stats().InUse, "breaking out of the loop closes the cursor")
	for _, err := range s.ListConsents(ctx, pixauto.ConsentFilter{}) {
		require.NoError(t, err)
		require.Equal(t, 1, s.read.Stats().InUse)
	}
	require.Equal(t, 0, s.read.Stats().InUse)
}

func TestErrorsNameTheOperation(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	err := s.UpdateCharge(ctx, &pixauto.ChargeRecord{ID: "ch1"})
	require.EqualError(t, err, "sqlite: update charge ch1: pixauto: not found")

	require.NoError(t, s.InsertConsent(ctx, &pixauto.ConsentRecord{ID: "k1"}))
	err = s.InsertConsent(ctx, &pixauto.ConsentRecord{ID: "k1"})
	require.ErrorContains(t, err, "sqlite: insert consent k1: pixauto: conflict (")
	require.ErrorContains(t, err, "pixauto_consent.id")

	c := &pixauto.ConsentRecord{ID: "k1"}
	require.NoError(t, s.UpdateConsent(ctx, c))
	c.Version = 0
	require.EqualError(t, s.UpdateConsent(ctx, c),
		"sqlite: update consent k1: pixauto: conflict: the record changed since it was read (stale version)")

	_, err = s.GetSecret(ctx, "refresh:k1")
	require.EqualError(t, err, "sqlite: get secret refresh:k1: pixauto: not found")
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
