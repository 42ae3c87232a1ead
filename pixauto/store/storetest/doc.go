// Package storetest is the conformance suite of [pixauto.Store]: one set of
// tests that every implementation runs, the way River's riverdrivertest
// exercises each of its database drivers.
//
//	func TestStore(t *testing.T) {
//		t.Parallel()
//		storetest.Exercise(t, func(t *testing.T) pixauto.Store {
//			s, err := mystore.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			require.NoError(t, err)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// # Rules beyond the interface's doc comments
//
// The suite pins down what the interface leaves open, so that every store
// behaves alike:
//
//   - Zero times and dates, nil consents and nil requests come back as they
//     went in. Times come back in UTC, truncated to the microsecond (the
//     precision of PostgreSQL).
//   - Insert stores Version as given; every successful update increments it
//     by one, in the store and in the caller's record. Updates replace every
//     field but the ID; an update of a missing record is ErrNotFound.
//   - A charge needs its consent, and an attempt its charge and consent:
//     inserting one whose parent is not stored is ErrNotFound. InsertCharge
//     refuses a first attempt that names another charge or consent.
//   - A payment ID names one attempt: UpdateAttempt to a PaymentID another
//     attempt holds is ErrConflict. AttemptByPaymentID("") is ErrNotFound.
//   - InsertCharges takes its plans in order: a plan that breaks a rule of
//     InsertCharge, against the store or an earlier plan of the batch, or
//     whose consent is not stored, is skipped whole and holds nothing a
//     later plan needs; a malformed plan fails the call and stores
//     nothing. An empty batch is not an error.
//   - PutAuthorization with a state already stored is ErrConflict.
//   - DeleteExpiredAuthorizations deletes ExpiresAt < before, comparing
//     the stored (microsecond) time; a zero ExpiresAt is expired.
//   - ListAttempts of an unknown charge is empty, not an error.
//   - ConsentFilter.CheckDueBefore is strict (before); AttemptFilter's
//     SubmitBefore and CheckDueBefore are inclusive (at or before), as their
//     comments say. Set filter fields combine with AND.
//   - DueAttempts orders by SubmitAt, then ID; attempts without SubmitAt
//     come last. ID order is byte order, whatever the database's collation.
//   - Iterators stream: breaking out of the loop releases the rows, the
//     loop body may write to the store, and a cancelled context ends the
//     loop with an error at the next row.
//   - Every method returns an error that wraps context.Canceled when its
//     context is cancelled.
package storetest
