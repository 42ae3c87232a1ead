package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/serverstore"
)

// The reference server's records (migration 0002_server.sql).

var _ serverstore.Store = (*Store)(nil)

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return wrap(ctx, "ping", err)
	}
	var one int
	if err := s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return wrap(ctx, "ping", err)
	}
	return nil
}

const receiverColumns = `id, name, cnpj, account_ispb, account_issuer, account_number, account_type, created_at`

// InsertReceiver stores a receiver; ErrConflict if its ID exists.
func (s *Store) InsertReceiver(ctx context.Context, r *serverstore.Receiver) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO pixauto_receiver (`+receiverColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Name, r.CNPJ, r.Account.ISPB, r.Account.Issuer, r.Account.Number, string(r.Account.AccountType), timeArg(r.CreatedAt))
	if err != nil {
		return wrap(ctx, "insert receiver "+r.ID, err)
	}
	return nil
}

// GetReceiver returns a receiver or ErrNotFound.
func (s *Store) GetReceiver(ctx context.Context, id string) (*serverstore.Receiver, error) {
	r, err := scanReceiver(s.read.QueryRowContext(ctx, `SELECT `+receiverColumns+` FROM pixauto_receiver WHERE id = ?`, id))
	if err != nil {
		return nil, wrap(ctx, "get receiver "+id, err)
	}
	return r, nil
}

// ListReceivers returns every receiver in ID order.
func (s *Store) ListReceivers(ctx context.Context) ([]*serverstore.Receiver, error) {
	return collect(ctx, s.read, "list receivers", `SELECT `+receiverColumns+` FROM pixauto_receiver ORDER BY id`, nil, scanReceiver)
}

func scanReceiver(sc scanner) (*serverstore.Receiver, error) {
	var (
		r   serverstore.Receiver
		typ string
		crt sql.NullString
	)
	if err := sc.Scan(&r.ID, &r.Name, &r.CNPJ, &r.Account.ISPB, &r.Account.Issuer, &r.Account.Number, &typ, &crt); err != nil {
		return nil, err
	}
	r.Account.AccountType = consent.AccountType(typ)
	var d decoder
	r.CreatedAt = d.time(crt)
	return &r, d.err
}

const apiKeyColumns = `id, receiver_id, hash, created_at, revoked_at`

// InsertAPIKey stores a key; ErrConflict if its ID exists, ErrNotFound if
// its receiver does not.
func (s *Store) InsertAPIKey(ctx context.Context, k *serverstore.APIKey) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO pixauto_api_key (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.ReceiverID, notNullBlob(k.Hash), timeArg(k.CreatedAt), timeArg(k.RevokedAt))
	if err != nil {
		return wrap(ctx, "insert api key "+k.ID, err)
	}
	return nil
}

// GetAPIKey returns a key, revoked or not, or ErrNotFound.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*serverstore.APIKey, error) {
	var (
		k        serverstore.APIKey
		crt, rev sql.NullString
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM pixauto_api_key WHERE id = ?`, id).
		Scan(&k.ID, &k.ReceiverID, &k.Hash, &crt, &rev)
	if err != nil {
		return nil, wrap(ctx, "get api key "+id, err)
	}
	var d decoder
	k.CreatedAt, k.RevokedAt = d.time(crt), d.time(rev)
	if d.err != nil {
		return nil, wrap(ctx, "get api key "+id, d.err)
	}
	return &k, nil
}

// RevokeAPIKey revokes a live key; ErrNotFound if there is none with that
// ID.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE pixauto_api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, timeArg(at), id)
	return wrapAffected(ctx, "revoke api key "+id, res, err)
}

// wrapAffected turns "no row changed" into ErrNotFound.
func wrapAffected(ctx context.Context, op string, res sql.Result, err error) error {
	if err != nil {
		return wrap(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n == 0 {
		return wrap(ctx, op, pixauto.ErrNotFound)
	}
	return nil
}

const subscriptionColumns = `id, receiver_id, url, description, secret, created_at, deleted_at`

// InsertSubscription stores a subscription; ErrConflict if its ID exists,
// ErrNotFound if its receiver does not.
func (s *Store) InsertSubscription(ctx context.Context, sub *serverstore.Subscription) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO pixauto_webhook_subscription (`+subscriptionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sub.ID, sub.ReceiverID, sub.URL, sub.Description, notNullBlob(sub.Secret), timeArg(sub.CreatedAt), timeArg(sub.DeletedAt))
	if err != nil {
		return wrap(ctx, "insert subscription "+sub.ID, err)
	}
	return nil
}

// GetSubscription returns a subscription, deleted or not, or ErrNotFound.
func (s *Store) GetSubscription(ctx context.Context, id string) (*serverstore.Subscription, error) {
	sub, err := scanSubscription(s.read.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM pixauto_webhook_subscription WHERE id = ?`, id))
	if err != nil {
		return nil, wrap(ctx, "get subscription "+id, err)
	}
	return sub, nil
}

// ListSubscriptions returns a receiver's live subscriptions in ID order.
func (s *Store) ListSubscriptions(ctx context.Context, receiverID string) ([]*serverstore.Subscription, error) {
	return collect(ctx, s.read, "list subscriptions", `SELECT `+subscriptionColumns+` FROM pixauto_webhook_subscription
		WHERE receiver_id = ? AND deleted_at IS NULL ORDER BY id`, []any{receiverID}, scanSubscription)
}

func scanSubscription(sc scanner) (*serverstore.Subscription, error) {
	var (
		sub      serverstore.Subscription
		crt, del sql.NullString
	)
	if err := sc.Scan(&sub.ID, &sub.ReceiverID, &sub.URL, &sub.Description, &sub.Secret, &crt, &del); err != nil {
		return nil, err
	}
	var d decoder
	sub.CreatedAt, sub.DeletedAt = d.time(crt), d.time(del)
	return &sub, d.err
}

// DeleteSubscription marks a live subscription deleted and cancels its
// pending deliveries, in one transaction.
func (s *Store) DeleteSubscription(ctx context.Context, id string, at time.Time) error {
	op := "delete subscription " + id
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, `UPDATE pixauto_webhook_subscription SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, timeArg(at), id)
	if err := wrapAffected(ctx, op, res, err); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pixauto_webhook_delivery SET status = ?, next_attempt_at = NULL,
		updated_at = ?, version = version + 1 WHERE subscription_id = ? AND status = ?`,
		string(serverstore.DeliveryCancelled), timeArg(at), id, string(serverstore.DeliveryPending)); err != nil {
		return wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}

const deliveryColumns = `id, subscription_id, receiver_id, event_id, event_type, payload, status, attempts,
	next_attempt_at, created_at, updated_at, version`

// InsertDeliveries stores deliveries, all or none.
func (s *Store) InsertDeliveries(ctx context.Context, ds []*serverstore.Delivery) error {
	op := fmt.Sprintf("insert %d deliveries", len(ds))
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, d := range ds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pixauto_webhook_delivery (`+deliveryColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.SubscriptionID, d.ReceiverID, d.EventID, d.EventType, notNullBlob(d.Payload), string(d.Status), d.Attempts,
			timeArg(d.NextAttemptAt), timeArg(d.CreatedAt), timeArg(d.UpdatedAt), d.Version); err != nil {
			return wrap(ctx, op+": "+d.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}

// ClaimDueDeliveries leases up to limit due deliveries, oldest first, in
// one statement: of two concurrent claimers, each delivery goes to one.
func (s *Store) ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*serverstore.Delivery, error) {
	if limit <= 0 {
		return []*serverstore.Delivery{}, nil
	}
	out, err := collect(ctx, s.write, "claim deliveries", `UPDATE pixauto_webhook_delivery
		SET next_attempt_at = ?, version = version + 1
		WHERE id IN (SELECT id FROM pixauto_webhook_delivery
			WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+deliveryColumns,
		[]any{timeArg(leaseUntil), string(serverstore.DeliveryPending), timeArg(now), limit}, scanDelivery)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *serverstore.Delivery) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RecordAttempt stores an attempt and the delivery's new state in one
// transaction, if d.Version is the stored one.
func (s *Store) RecordAttempt(ctx context.Context, d *serverstore.Delivery, a *serverstore.DeliveryAttempt) error {
	op := fmt.Sprintf("record attempt %d of delivery %s", a.Seq, d.ID)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, `UPDATE pixauto_webhook_delivery SET status = ?, attempts = ?, next_attempt_at = ?,
		updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
		string(d.Status), d.Attempts, timeArg(d.NextAttemptAt), timeArg(d.UpdatedAt), d.ID, d.Version)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(ctx, op, err)
	} else if n == 0 {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM pixauto_webhook_delivery WHERE id = ?`, d.ID).Scan(&one); err != nil {
			return wrap(ctx, op, err)
		}
		return wrap(ctx, op, errStale)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pixauto_webhook_attempt (delivery_id, seq, at, status_code, error, duration_us)
		VALUES (?, ?, ?, ?, ?, ?)`, a.DeliveryID, a.Seq, timeArg(a.At), a.StatusCode, a.Error, a.Duration.Microseconds()); err != nil {
		return wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(ctx, op, err)
	}
	d.Version++
	return nil
}

// GetDelivery returns a delivery or ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (*serverstore.Delivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM pixauto_webhook_delivery WHERE id = ?`, id))
	if err != nil {
		return nil, wrap(ctx, "get delivery "+id, err)
	}
	return d, nil
}

// ListDeliveries returns the deliveries matching f in ID order.
func (s *Store) ListDeliveries(ctx context.Context, f serverstore.DeliveryFilter) ([]*serverstore.Delivery, error) {
	var w where
	w.add("subscription_id = ?", f.SubscriptionID)
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if f.After != "" {
		w.add("id > ?", f.After)
	}
	q := `SELECT ` + deliveryColumns + ` FROM pixauto_webhook_delivery` + w.String() + ` ORDER BY id` + w.limit(f.Limit)
	return collect(ctx, s.read, "list deliveries", q, w.args, scanDelivery)
}

func scanDelivery(sc scanner) (*serverstore.Delivery, error) {
	var (
		d             serverstore.Delivery
		status        string
		next, crt, up sql.NullString
	)
	if err := sc.Scan(&d.ID, &d.SubscriptionID, &d.ReceiverID, &d.EventID, &d.EventType, &d.Payload, &status, &d.Attempts,
		&next, &crt, &up, &d.Version); err != nil {
		return nil, err
	}
	d.Status = serverstore.DeliveryStatus(status)
	var dec decoder
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = dec.time(next), dec.time(crt), dec.time(up)
	return &d, dec.err
}

// ListDeliveryAttempts returns a delivery's attempts in Seq order.
func (s *Store) ListDeliveryAttempts(ctx context.Context, deliveryID string) ([]*serverstore.DeliveryAttempt, error) {
	return collect(ctx, s.read, "list attempts of delivery "+deliveryID, `SELECT delivery_id, seq, at, status_code, error, duration_us
		FROM pixauto_webhook_attempt WHERE delivery_id = ? ORDER BY seq`, []any{deliveryID},
		func(sc scanner) (*serverstore.DeliveryAttempt, error) {
			var (
				a  serverstore.DeliveryAttempt
				at sql.NullString
				us int64
			)
			if err := sc.Scan(&a.DeliveryID, &a.Seq, &at, &a.StatusCode, &a.Error, &us); err != nil {
				return nil, err
			}
			var d decoder
			a.At, a.Duration = d.time(at), time.Duration(us)*time.Microsecond
			return &a, d.err
		})
}
