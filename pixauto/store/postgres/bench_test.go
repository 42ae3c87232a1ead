package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/billbench"
)

var benchTime = time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)

func openBench(b *testing.B) *Store {
	b.Helper()
	s := openTest(b)
	require.NoError(b, s.InsertConsent(b.Context(), &pixauto.ConsentRecord{ID: "k1", ReceiverID: "r1", HolderID: "h1"}))
	return s
}

// BenchmarkInsertCharge stores a charge and its first attempt: one
// transaction, two rows.
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
// the heap before the loop: it stays flat (a few records and pgx's read
// buffer), whatever the number of rows, because rows are streamed, never
// collected.
func BenchmarkListChargesStream(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	_, err := s.Pool().Exec(ctx, `
		INSERT INTO pixauto_charge (`+chargeColumns+`)
		SELECT format('ch%s', lpad(i::text, 9, '0')), 'r1', 'k1', 'h1', format('ref%s', i), 14990,
			DATE '2025-08-05', 'PLANNED', '', 'Mensalidade', '', $2, $2, 1
		FROM generate_series(1, $1::int) AS i`, streamRows, benchTime)
	require.NoError(b, err)

	billbench.StreamCharges(b, s, streamRows)
}

// BenchmarkBill100kConsents runs Initiator.Bill over 10,000 and 100,000
// authorised consents (sub-benchmarks 10k and 100k): pages of 500 read
// with ListConsents, each page's charges stored by one InsertCharges
// transaction. See billbench for the metrics.
func BenchmarkBill100kConsents(b *testing.B) {
	billbench.Benchmark(b, billbench.Fixture{
		Open: func(b *testing.B) pixauto.Store { return openTest(b) },
		Insert: func(ctx context.Context, s pixauto.Store, recs []*pixauto.ConsentRecord) error {
			return insertConsents(ctx, s.(*Store), recs)
		},
		Settle: func(ctx context.Context, s pixauto.Store) error {
			_, err := s.(*Store).pool.Exec(ctx, `VACUUM (ANALYZE) pixauto_consent`)
			return err
		},
	})
}

// insertConsents is InsertConsent for a fixture: one COPY.
func insertConsents(ctx context.Context, s *Store, recs []*pixauto.ConsentRecord) error {
	rows := make([][]any, len(recs))
	for i, c := range recs {
		doc, err := consentArg(c.Consent)
		if err != nil {
			return err
		}
		rows[i] = []any{c.ID, c.ReceiverID, c.HolderID, string(c.Status), doc, c.IdempotencyKey,
			timeArg(c.NextCheckAt), timeArg(c.CreatedAt), timeArg(c.UpdatedAt), c.Version}
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"pixauto_consent"},
		[]string{"id", "receiver_id", "holder_id", "status", "consent", "idempotency_key",
			"next_check_at", "created_at", "updated_at", "version"},
		pgx.CopyFromRows(rows))
	return err
}
