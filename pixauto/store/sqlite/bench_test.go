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
	"github.com/ofb-go/pixauto/pixauto/store/internal/billbench"
)

var benchTime = time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	require.NoError(b, s.InsertConsent(b.Context(), &pixauto.ConsentRecord{ID: "k1", ReceiverID: "r1", HolderID: "h1"}))
	return s
}

// BenchmarkInsertCharge stores a charge and its first attempt: one
// transaction, two rows, one fsync (synchronous=FULL).
func BenchmarkInsertCharge(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("ch%09d", i)
		c := &pixauto.ChargeRecord{
			ID: id, ReceiverID: "r1", ConsentID: "k1", HolderID: "h1", Reference: id,
			Amount: 14990, DueDate: consent.NewDate(2025, 8, 5), Status: pixauto.ChargePlanned,
			Description: "Mensalidade", CreatedAt: benchTime, UpdatedAt: benchTime, Version: 1,
		}
		a := &pixauto.AttemptRecord{
			ID: id + "-0", ChargeID: id, ConsentID: "k1", EndToEndID: "E12345678202508051500" + id,
			IdempotencyKey: "idem-" + id, Date: c.DueDate, State: pixauto.AttemptPlanned,
			SubmitAt: benchTime, Request: []byte(`{"amount":"149.90"}`),
			CreatedAt: benchTime, UpdatedAt: benchTime, Version: 1,
		}
		if err := s.InsertCharge(ctx, c, a); err != nil {
			b.Fatal(err)
		}
	}
}

const streamRows = 100_000

// BenchmarkListChargesStream reads 100,000 charges through one ListCharges
// loop (see billbench.StreamCharges). peak-heap-B is the largest live heap seen while iterating, above
// the heap before the loop: it stays flat (a few records), whatever the
// number of rows, because rows are streamed, never collected.
func BenchmarkListChargesStream(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	_, err := s.DB().ExecContext(ctx, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO pixauto_charge (`+chargeColumns+`)
		SELECT printf('ch%09d', i), 'r1', 'k1', 'h1', printf('ref%09d', i), 14990, '2025-08-05',
			'PLANNED', '', 'Mensalidade', '', '2025-07-01T12:00:00.000000Z',
			'2025-07-01T12:00:00.000000Z', 1
		FROM n`, streamRows)
	require.NoError(b, err)

	billbench.StreamCharges(b, s, streamRows)
}

// BenchmarkBill100kConsents runs Initiator.Bill over 10,000 and 100,000
// authorised consents (sub-benchmarks 10k and 100k): pages of 500 read
// with ListConsents, each page's charges stored by one InsertCharges
// transaction. See billbench for the metrics.
func BenchmarkBill100kConsents(b *testing.B) {
	billbench.Benchmark(b, billbench.Fixture{
		Open: func(b *testing.B) pixauto.Store {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bill.db"))
			require.NoError(b, err)
			b.Cleanup(func() { require.NoError(b, s.Close()) })
			return s
		},
		Insert: func(ctx context.Context, s pixauto.Store, recs []*pixauto.ConsentRecord) error {
			return insertConsents(ctx, s.(*Store), recs)
		},
		Settle: func(ctx context.Context, s pixauto.Store) error {
			_, err := s.(*Store).write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			return err
		},
	})
}

// insertConsents is InsertConsent for a fixture: one transaction, one
// prepared statement.
func insertConsents(ctx context.Context, s *Store, recs []*pixauto.ConsentRecord) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, insertConsentSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, c := range recs {
		args, err := consentArgs(c)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
