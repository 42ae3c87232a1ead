package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/serverstore"
)

// The reference server's records (migration 0002_server.sql).

var _ serverstore.Store = (*Store)(nil)

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return wrap(ctx, "ping", err)
	}
	return nil
}

const receiverColumns = `id, name, cnpj, account_ispb, account_issuer, account_number, account_type, created_at`

// InsertReceiver stores a receiver; ErrConflict if its ID exists.
func (s *Store) InsertReceiver(ctx context.Context, r *serverstore.Receiver) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO pixauto_receiver (`+receiverColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID, r.Name, r.CNPJ, r.Account.ISPB, r.Account.Issuer, r.Account.Number, string(r.Account.AccountType), timeArg(r.CreatedAt))
	if err != nil {
		return wrap(ctx, "insert receiver "+r.ID, err)
	}
	return nil
}

// GetReceiver returns a receiver or ErrNotFound.
func (s *Store) GetReceiver(ctx context.Context, id string) (*serverstore.Receiver, error) {
	r, err := scanReceiver(s.pool.QueryRow(ctx, `SELECT `+receiverColumns+` FROM pixauto_receiver WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(ctx, "get receiver "+id, err)
	}
	return r, nil
}

// ListReceivers returns every receiver in ID order.
func (s *Store) ListReceivers(ctx context.Context) ([]*serverstore.Receiver, error) {
	return collect(ctx, s.pool, "list receivers", `SELECT `+receiverColumns+` FROM pixauto_receiver ORDER BY id`, nil, scanReceiver)
}

func scanReceiver(row pgx.Row) (*serverstore.Receiver, error) {
	var (
		r   serverstore.Receiver
		typ string
		crt pgtype.Timestamptz
	)
	if err := row.Scan(&r.ID, &r.Name, &r.CNPJ, &r.Account.ISPB, &r.Account.Issuer, &r.Account.Number, &typ, &crt); err != nil {
		return nil, err
	}
	r.Account.AccountType, r.CreatedAt = consent.AccountType(typ), timeOf(crt)
	return &r, nil
}

const apiKeyColumns = `id, receiver_id, hash, created_at, revoked_at`

// InsertAPIKey stores a key; ErrConflict if its ID exists, ErrNotFound if
// its receiver does not.
func (s *Store) InsertAPIKey(ctx context.Context, k *serverstore.APIKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO pixauto_api_key (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.ReceiverID, notNullBytes(k.Hash), timeArg(k.CreatedAt), timeArg(k.RevokedAt))
	if err != nil {
		return wrap(ctx, "insert api key "+k.ID, err)
	}
	return nil
}

// GetAPIKey returns a key, revoked or not, or ErrNotFound.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*serverstore.APIKey, error) {
	var (
		k        serverstore.APIKey
		crt, rev pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM pixauto_api_key WHERE id = $1`, id).
		Scan(&k.ID, &k.ReceiverID, &k.Hash, &crt, &rev)
	if err != nil {
		return nil, wrap(ctx, "get api key "+id, err)
	}
	k.CreatedAt, k.RevokedAt = timeOf(crt), timeOf(rev)
	return &k, nil
}

// RevokeAPIKey revokes a live key; ErrNotFound if there is none with that
// ID.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE pixauto_api_key SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, timeArg(at), id)
	return wrapAffected(ctx, "revoke api key "+id, tag, err)
}

// wrapAffected turns "no row changed" into ErrNotFound.
func wrapAffected(ctx context.Context, op string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return wrap(ctx, op, err)
	}
	if tag.RowsAffected() == 0 {
		return wrap(ctx, op, pixauto.ErrNotFound)
	}
	return nil
}

const subscriptionColumns = `id, receiver_id, url, description, secret, created_at, deleted_at`

// InsertSubscription stores a subscription; ErrConflict if its ID exists,
// ErrNotFound if its receiver does not.
func (s *Store) InsertSubscription(ctx context.Context, sub *serverstore.Subscription) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO pixauto_webhook_subscription (`+subscriptionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sub.ID, sub.ReceiverID, sub.URL, sub.Description, notNullBytes(sub.Secret), timeArg(sub.CreatedAt), timeArg(sub.DeletedAt))
	if err != nil {
		return wrap(ctx, "insert subscription "+sub.ID, err)
	}
	return nil
}

// GetSubscription returns a subscription, deleted or not, or ErrNotFound.
func (s *Store) GetSubscription(ctx context.Context, id string) (*serverstore.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM pixauto_webhook_subscription WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(ctx, "get subscription "+id, err)
	}
	return sub, nil
}

// ListSubscriptions returns a receiver's live subscriptions in ID order.
func (s *Store) ListSubscriptions(ctx context.Context, receiverID string) ([]*serverstore.Subscription, error) {
	return collect(ctx, s.pool, "list subscriptions", `SELECT `+subscriptionColumns+` FROM pixauto_webhook_subscription
		WHERE receiver_id = $1 AND deleted_at IS NULL ORDER BY id`, []any{receiverID}, scanSubscription)
}

func scanSubscription(row pgx.Row) (*serverstore.Subscription, error) {
	var (
		sub      serverstore.Subscription
		crt, del pgtype.Timestamptz
	)
	if err := row.Scan(&sub.ID, &sub.ReceiverID, &sub.URL, &sub.Description, &sub.Secret, &crt, &del); err != nil {
		return nil, err
	}
	sub.CreatedAt, sub.DeletedAt = timeOf(crt), timeOf(del)
	return &sub, nil
}

// DeleteSubscription marks a live subscription deleted and cancels its
// pending deliveries, in one transaction.
func (s *Store) DeleteSubscription(ctx context.Context, id string, at time.Time) error {
	op := "delete subscription " + id
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE pixauto_webhook_subscription SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL`, timeArg(at), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pixauto.ErrNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE pixauto_webhook_delivery SET status = $1, next_attempt_at = NULL,
			updated_at = $2, version = version + 1 WHERE subscription_id = $3 AND status = $4`,
			string(serverstore.DeliveryCancelled), timeArg(at), id, string(serverstore.DeliveryPending))
		return err
	})
	if err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}

const deliveryColumns = `id, subscription_id, receiver_id, event_id, event_type, payload, status, attempts,
	next_attempt_at, created_at, updated_at, version`

// InsertDeliveries stores deliveries, all or none.
func (s *Store) InsertDeliveries(ctx context.Context, ds []*serverstore.Delivery) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, d := range ds {
			if _, err := tx.Exec(ctx, `INSERT INTO pixauto_webhook_delivery (`+deliveryColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				d.ID, d.SubscriptionID, d.ReceiverID, d.EventID, d.EventType, notNullBytes(d.Payload), string(d.Status), d.Attempts,
				timeArg(d.NextAttemptAt), timeArg(d.CreatedAt), timeArg(d.UpdatedAt), d.Version); err != nil {
				return fmt.Errorf("%s: %w", d.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return wrap(ctx, fmt.Sprintf("insert %d deliveries", len(ds)), err)
	}
	return nil
}

// ClaimDueDeliveries leases up to limit due deliveries, oldest first; rows
// another claimer holds are skipped, so each delivery goes to one claimer.
func (s *Store) ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*serverstore.Delivery, error) {
	if limit <= 0 {
		return []*serverstore.Delivery{}, nil
	}
	out, err := collect(ctx, s.pool, "claim deliveries", `UPDATE pixauto_webhook_delivery
		SET next_attempt_at = $1, version = version + 1
		WHERE id IN (SELECT id FROM pixauto_webhook_delivery
			WHERE status = $2 AND next_attempt_at <= $3 ORDER BY next_attempt_at, id LIMIT $4
			FOR UPDATE SKIP LOCKED)
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE pixauto_webhook_delivery SET status = $1, attempts = $2, next_attempt_at = $3,
			updated_at = $4, version = version + 1 WHERE id = $5 AND version = $6`,
			string(d.Status), d.Attempts, timeArg(d.NextAttemptAt), timeArg(d.UpdatedAt), d.ID, d.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM pixauto_webhook_delivery WHERE id = $1`, d.ID).Scan(&one); err != nil {
				return err
			}
			return errStale
		}
		_, err = tx.Exec(ctx, `INSERT INTO pixauto_webhook_attempt (delivery_id, seq, at, status_code, error, duration_us)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.DeliveryID, a.Seq, timeArg(a.At), a.StatusCode, a.Error, a.Duration.Microseconds())
		return err
	})
	if err != nil {
		return wrap(ctx, fmt.Sprintf("record attempt %d of delivery %s", a.Seq, d.ID), err)
	}
	d.Version++
	return nil
}

// GetDelivery returns a delivery or ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (*serverstore.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM pixauto_webhook_delivery WHERE id = $1`, id))
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
	return collect(ctx, s.pool, "list deliveries", q, w.args, scanDelivery)
}

func scanDelivery(row pgx.Row) (*serverstore.Delivery, error) {
	var (
		d             serverstore.Delivery
		status        string
		next, crt, up pgtype.Timestamptz
	)
	if err := row.Scan(&d.ID, &d.SubscriptionID, &d.ReceiverID, &d.EventID, &d.EventType, &d.Payload, &status, &d.Attempts,
		&next, &crt, &up, &d.Version); err != nil {
		return nil, err
	}
	d.Status = serverstore.DeliveryStatus(status)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = timeOf(next), timeOf(crt), timeOf(up)
	return &d, nil
}

// ListDeliveryAttempts returns a delivery's attempts in Seq order.
func (s *Store) ListDeliveryAttempts(ctx context.Context, deliveryID string) ([]*serverstore.DeliveryAttempt, error) {
	return collect(ctx, s.pool, "list attempts of delivery "+deliveryID, `SELECT delivery_id, seq, at, status_code, error, duration_us
		FROM pixauto_webhook_attempt WHERE delivery_id = $1 ORDER BY seq`, []any{deliveryID},
		func(row pgx.Row) (*serverstore.DeliveryAttempt, error) {
			var (
				a  serverstore.DeliveryAttempt
				at pgtype.Timestamptz
				us int64
			)
			if err := row.Scan(&a.DeliveryID, &a.Seq, &at, &a.StatusCode, &a.Error, &us); err != nil {
				return nil, err
			}
			a.At, a.Duration = timeOf(at), time.Duration(us)*time.Microsecond
			return &a, nil
		})
}
