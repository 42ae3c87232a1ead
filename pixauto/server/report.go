package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// The charge report: each charge with what a billing panel lists beside it
// (the consent's contract and debtor, its attempts, the receiver-safe
// reason), as GET /v1/charges/report pages it for the dashboard and GET
// /v1/charges/export writes it as a file. Both read the same rows through
// reportReader.

// reportRow is one charge of the report.
type reportRow struct {
	charge   *pixauto.ChargeRecord
	contract string
	// debtorName and debtorDoc are the contract's debtor; debtorDoc is
	// masked (maskDocument).
	debtorName, debtorDoc string
	attempts              int
	// retry: the last attempt is a retry.
	retry bool
	// reason is the receiver-safe reason of a FAILED or RETRYING charge.
	reason pixauto.ReceiverReason
	detail string
}

func (r reportRow) operation() api.ChargeReportRowOperation {
	if r.retry {
		return api.ChargeReportRowOperationRetry
	}
	return api.ChargeReportRowOperationCharge
}

// reportFilter reads the filters shared by the report and the export; the
// receiver is always the caller.
func reportFilter(ctx context.Context, statuses *api.ChargeStatusFilter, consentID *api.ChargeConsentFilter, dueFrom, dueTo *api.Date) (pixauto.ChargeFilter, *Problem) {
	var f fields
	filter := pixauto.ChargeFilter{ReceiverID: receiverFrom(ctx).ID}
	if consentID != nil {
		filter.ConsentID = *consentID
	}
	filter.DueFrom = f.optDate("due_from", dueFrom)
	filter.DueTo = f.optDate("due_to", dueTo)
	if !filter.DueFrom.IsZero() && !filter.DueTo.IsZero() && filter.DueTo.Before(filter.DueFrom) {
		f.add("due_to", "is before due_from")
	}
	if statuses != nil {
		for _, st := range *statuses {
			filter.Statuses = append(filter.Statuses, pixauto.ChargeStatus(st))
		}
	}
	return filter, f.problem()
}

// maxCachedConsents bounds reportReader's consent cache: past it, the cache
// starts over (a dropped consent costs one read).
const maxCachedConsents = 1024

// reportReader reads the rows of a filter page by page (keyset paging on
// the charge id), so that no store iterator stays open while rows are
// written, and no more than a page is held.
type reportReader struct {
	s        *Server
	filter   pixauto.ChargeFilter
	pageSize int
	consents map[string]*pixauto.ConsentRecord
	done     bool
}

func (s *Server) newReportReader(filter pixauto.ChargeFilter, pageSize int) *reportReader {
	return &reportReader{s: s, filter: filter, pageSize: pageSize, consents: map[string]*pixauto.ConsentRecord{}}
}

// charges returns the next page of charges: up to n after the last one
// read. Fewer than n means there are no more.
func (r *reportReader) charges(ctx context.Context, n int) ([]*pixauto.ChargeRecord, error) {
	f := r.filter
	f.Limit = n
	var page []*pixauto.ChargeRecord
	for ch, err := range r.s.in.ListCharges(ctx, f) {
		if err != nil {
			return nil, err
		}
		page = append(page, ch)
	}
	if len(page) > 0 {
		r.filter.After = page[len(page)-1].ID
	}
	return page, nil
}

// next returns the next page of rows; an empty page means the end.
func (r *reportReader) next(ctx context.Context) ([]reportRow, error) {
	if r.done {
		return nil, nil
	}
	page, err := r.charges(ctx, r.pageSize)
	if err != nil {
		return nil, err
	}
	if len(page) < r.pageSize {
		r.done = true
	}
	return r.rows(ctx, page)
}

func (r *reportReader) rows(ctx context.Context, page []*pixauto.ChargeRecord) ([]reportRow, error) {
	rows := make([]reportRow, 0, len(page))
	for _, ch := range page {
		row, err := r.row(ctx, ch)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (r *reportReader) consent(ctx context.Context, id string) (*pixauto.ConsentRecord, error) {
	if rec, ok := r.consents[id]; ok {
		return rec, nil
	}
	rec, err := r.s.in.GetConsent(ctx, id)
	if errors.Is(err, pixauto.ErrNotFound) {
		rec, err = nil, nil // shown without contract or debtor
	}
	if err != nil {
		return nil, err
	}
	if len(r.consents) >= maxCachedConsents {
		clear(r.consents)
	}
	r.consents[id] = rec
	return rec, nil
}

func (r *reportReader) row(ctx context.Context, ch *pixauto.ChargeRecord) (reportRow, error) {
	row := reportRow{charge: ch}
	rec, err := r.consent(ctx, ch.ConsentID)
	if err != nil {
		return row, err
	}
	if rec != nil && rec.Consent != nil {
		if a := rec.Consent.Automatic(); a != nil {
			row.contract = a.ContractID
			row.debtorName = a.ContractDebtor.Name
			row.debtorDoc = maskDocument(a.ContractDebtor.Document.Identification)
		}
	}
	attempts, err := r.s.in.Attempts(ctx, ch.ID)
	if err != nil {
		return row, err
	}
	row.attempts = len(attempts)
	if ch.Status == pixauto.ChargeFailed || ch.Status == pixauto.ChargeRetrying {
		row.reason = pixauto.ReasonForRejection(ch.FailureCode)
	}
	if len(attempts) > 0 {
		last := attempts[len(attempts)-1]
		row.retry = last.Seq > 0
		row.detail = attemptDetail(ch, last)
	}
	return row, nil
}

// maskDocument hides a CPF or CNPJ but for its last 4 characters, keeping
// its punctuation: ***.***.*89-01, **.***.***/**01-95. Anything else keeps
// its last 4 characters only.
func maskDocument(doc string) string {
	var layout string
	switch len(doc) {
	case 11:
		layout = "###.###.###-##"
	case 14:
		layout = "##.###.###/####-##"
	default:
		if len(doc) <= 4 {
			return strings.Repeat("*", len(doc))
		}
		return strings.Repeat("*", len(doc)-4) + doc[len(doc)-4:]
	}
	var b strings.Builder
	i := 0
	for _, c := range layout {
		if c != '#' {
			b.WriteRune(c)
			continue
		}
		if i >= len(doc)-4 {
			b.WriteByte(doc[i])
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

var attemptKindText = map[payments.AttemptKind]string{
	payments.KindOriginal: "Original attempt",
	payments.KindIntraday: "Same-day retry",
	payments.KindExtraday: "Next-day retry",
}

var bankStatusText = map[payments.Status]string{
	payments.StatusRCVD: "received by the bank",
	payments.StatusACCP: "accepted by the bank",
	payments.StatusACPD: "sent for settlement",
	payments.StatusACSC: "settled",
	payments.StatusRJCT: "rejected",
	payments.StatusCANC: "cancelled",
	payments.StatusPDNG: "pending at the bank",
	payments.StatusSCHD: "scheduled at the bank",
}

// attemptDetail says in one line what became of a charge's last attempt:
// its kind, its date and where it stands; never a rejection code.
func attemptDetail(ch *pixauto.ChargeRecord, a *pixauto.AttemptRecord) string {
	kind, ok := attemptKindText[a.Kind]
	if !ok {
		kind = "Attempt"
	}
	var outcome string
	switch a.State {
	case pixauto.AttemptPlanned:
		outcome = "planned"
	case pixauto.AttemptSending:
		outcome = "being sent"
	case pixauto.AttemptRefused:
		outcome = "refused when it was sent"
		if ch.Status == pixauto.ChargeCancelled {
			outcome = "withdrawn before it was sent"
		}
	default:
		if outcome = bankStatusText[a.Status]; outcome == "" {
			outcome = "sent"
		}
	}
	return fmt.Sprintf("%s on %s: %s", kind, brDate(a.Date), outcome)
}

// brDate is d as Brazilians write it, dd/mm/yyyy.
func brDate(d consent.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day, d.Month, d.Year)
}

func reportRowView(r reportRow) api.ChargeReportRow {
	ch := r.charge
	v := api.ChargeReportRow{
		ChargeId: ch.ID, ConsentId: ch.ConsentID, ContractId: r.contract, Status: api.ChargeStatus(ch.Status),
		StatusReason: reasonView(r.reason), Amount: ch.Amount.String(), DueDate: ch.DueDate.String(),
		Operation: r.operation(), Attempts: r.attempts, Debtor: api.MaskedPerson{Document: r.debtorDoc, Name: optString(r.debtorName)},
		Detail: r.detail, Description: optString(ch.Description), ExternalId: optString(ch.ExternalID),
		CreatedAt: apiTime(ch.CreatedAt), UpdatedAt: apiTime(ch.UpdatedAt),
	}
	if ch.Reference == payments.ReferenceZero {
		t := true
		v.FirstPayment = &t
	}
	return v
}

// ListChargeReport pages through the caller's charges as report rows.
func (s *Server) ListChargeReport(ctx context.Context, req api.ListChargeReportRequestObject) (api.ListChargeReportResponseObject, error) {
	after, p := decodeCursor(req.Params.Cursor)
	if p != nil {
		return nil, p
	}
	q := req.Params
	filter, p := reportFilter(ctx, q.Status, q.ConsentId, q.DueFrom, q.DueTo)
	if p != nil {
		return nil, p
	}
	filter.After = after
	limit := pageLimit(q.Limit)
	rd := s.newReportReader(filter, limit)
	page, err := rd.charges(ctx, limit+1)
	if err != nil {
		return nil, err
	}
	out := api.ChargeReportList{Data: []api.ChargeReportRow{}}
	if len(page) > limit {
		page = page[:limit]
		out.NextCursor = encodeCursor(page[limit-1].ID)
	}
	rows, err := rd.rows(ctx, page)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out.Data = append(out.Data, reportRowView(r))
	}
	return api.ListChargeReport200JSONResponse(out), nil
}
