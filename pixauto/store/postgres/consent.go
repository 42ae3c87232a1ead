package postgres

import (
	"context"
	"iter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/record"
)

const consentColumns = `id, receiver_id, holder_id, status, consent, idempotency_key,
	next_check_at, created_at, updated_at, version`

// InsertConsent stores a new consent; ErrConflict if its ID exists.
func (s *Store) InsertConsent(ctx context.Context, c *pixauto.ConsentRecord) error {
	op := "insert consent " + c.ID
	doc, err := consentArg(c.Consent)
	if err != nil {
		return wrap(ctx, op, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO pixauto_consent (`+consentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.ReceiverID, c.HolderID, string(c.Status), doc, c.IdempotencyKey,
		timeArg(c.NextCheckAt), timeArg(c.CreatedAt), timeArg(c.UpdatedAt), c.Version)
	if err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}

// UpdateConsent replaces every field of a consent but its ID if c.Version is
// the stored version (else ErrConflict; ErrNotFound if there is no such
// consent), and increments c.Version.
func (s *Store) UpdateConsent(ctx context.Context, c *pixauto.ConsentRecord) error {
	op := "update consent " + c.ID
	doc, err := consentArg(c.Consent)
	if err != nil {
		return wrap(ctx, op, err)
	}
	err = update(ctx, s.pool, "pixauto_consent", op, `UPDATE pixauto_consent SET
		receiver_id = $1, holder_id = $2, status = $3, consent = $4, idempotency_key = $5,
		next_check_at = $6, created_at = $7, updated_at = $8, version = version + 1
		WHERE id = $9 AND version = $10`,
		[]any{c.ReceiverID, c.HolderID, string(c.Status), doc, c.IdempotencyKey,
			timeArg(c.NextCheckAt), timeArg(c.CreatedAt), timeArg(c.UpdatedAt), c.ID, c.Version},
		c.ID)
	if err != nil {
		return err
	}
	c.Version++
	return nil
}

// GetConsent returns a consent or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, id string) (*pixauto.ConsentRecord, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+consentColumns+` FROM pixauto_consent WHERE id = $1`, id)
	c, err := scanConsent(row)
	if err != nil {
		return nil, wrap(ctx, "get consent "+id, err)
	}
	return c, nil
}

// ListConsents streams the consents matching f in ID order. The iterator
// holds a pool connection until its loop ends; the loop body may use the
// store.
func (s *Store) ListConsents(ctx context.Context, f pixauto.ConsentFilter) iter.Seq2[*pixauto.ConsentRecord, error] {
	var w where
	if f.ReceiverID != "" {
		w.add("receiver_id = ?", f.ReceiverID)
	}
	if f.HolderID != "" {
		w.add("holder_id = ?", f.HolderID)
	}
	in(&w, "status", f.Statuses)
	if !f.CheckDueBefore.IsZero() {
		w.add("next_check_at < ?", f.CheckDueBefore)
	}
	if f.After != "" {
		w.add("id > ?", f.After)
	}
	q := `SELECT ` + consentColumns + ` FROM pixauto_consent` + w.String() + ` ORDER BY id` + w.limit(f.Limit)
	return stream(ctx, s.pool, "list consents", q, w.args, scanConsent)
}

func scanConsent(row pgx.Row) (*pixauto.ConsentRecord, error) {
	var (
		c             pixauto.ConsentRecord
		doc           []byte
		next, crt, up pgtype.Timestamptz
	)
	err := row.Scan(&c.ID, &c.ReceiverID, &c.HolderID, &c.Status, &doc, &c.IdempotencyKey,
		&next, &crt, &up, &c.Version)
	if err != nil {
		return nil, err
	}
	if c.Consent, err = record.DecodeConsent(doc); err != nil {
		return nil, err
	}
	c.NextCheckAt, c.CreatedAt, c.UpdatedAt = timeOf(next), timeOf(crt), timeOf(up)
	return &c, nil
}
