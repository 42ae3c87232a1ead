package sqlite

import (
	"context"
	"database/sql"
	"iter"

	"github.com/ofb-go/pixauto/pixauto"
)

const consentColumns = `id, receiver_id, holder_id, status, consent, idempotency_key,
	next_check_at, created_at, updated_at, version`

// InsertConsent stores a new consent; ErrConflict if its ID exists.
func (s *Store) InsertConsent(ctx context.Context, c *pixauto.ConsentRecord) error {
	op := "insert consent " + c.ID
	args, err := consentArgs(c)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if _, err = s.write.ExecContext(ctx, insertConsentSQL, args...); err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}

const insertConsentSQL = `INSERT INTO pixauto_consent (` + consentColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func consentArgs(c *pixauto.ConsentRecord) ([]any, error) {
	doc, err := consentArg(c.Consent)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, c.ReceiverID, c.HolderID, string(c.Status), doc, c.IdempotencyKey,
		timeArg(c.NextCheckAt), timeArg(c.CreatedAt), timeArg(c.UpdatedAt), c.Version}, nil
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
	err = update(ctx, s.write, "pixauto_consent", op, `UPDATE pixauto_consent SET
		receiver_id = ?, holder_id = ?, status = ?, consent = ?, idempotency_key = ?,
		next_check_at = ?, created_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`,
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
	row := s.read.QueryRowContext(ctx, `SELECT `+consentColumns+` FROM pixauto_consent WHERE id = ?`, id)
	c, err := scanConsent(row)
	if err != nil {
		return nil, wrap(ctx, "get consent "+id, err)
	}
	return c, nil
}

// ListConsents streams the consents matching f in ID order. The iterator
// holds a read connection until its loop ends; the loop body may write.
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
		w.add("next_check_at < ?", timeArg(f.CheckDueBefore))
	}
	if f.After != "" {
		w.add("id > ?", f.After)
	}
	q := `SELECT ` + consentColumns + ` FROM pixauto_consent` + w.String() + ` ORDER BY id` + w.limit(f.Limit)
	return stream(ctx, s.read, "list consents", q, w.args, scanConsent)
}

func scanConsent(sc scanner) (*pixauto.ConsentRecord, error) {
	var (
		c                   pixauto.ConsentRecord
		doc, next, crt, upd sql.NullString
	)
	err := sc.Scan(&c.ID, &c.ReceiverID, &c.HolderID, &c.Status, &doc, &c.IdempotencyKey,
		&next, &crt, &upd, &c.Version)
	if err != nil {
		return nil, err
	}
	var d decoder
	c.Consent = d.consent(doc)
	c.NextCheckAt, c.CreatedAt, c.UpdatedAt = d.time(next), d.time(crt), d.time(upd)
	if d.err != nil {
		return nil, d.err
	}
	return &c, nil
}
