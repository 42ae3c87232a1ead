package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/server"
)

// dashData is receiver A's charges in every interesting state, and one of
// receiver B's, on the sandbox bank.
type dashData struct {
	*env
	consentA1, consentA2, consentB string
	// A's charges: settled, failed for insufficient balance after three
	// next-day retries, cancelled before it was sent, and planned for next
	// month; B's charge settled.
	settled, failed, cancelled, planned, other      string
	dueSettled, dueFailed, dueCancelled, duePlanned consent.Date
}

// dashEnrol enrols a consent of receiver key with the body modified by
// mods, the payer approving at the bank.
func (e *env) dashEnrol(key string, mods ...func(map[string]any)) string {
	e.t.Helper()
	en := e.ok(http.StatusCreated, e.do("POST", "/v1/consents", key, e.consentBody(mods...)))
	location, err := e.Bank.Authorize(context.Background(), en["redirect_url"].(string))
	require.NoError(e.t, err)
	res := e.ok(http.StatusOK, e.do("POST", "/callback", "", map[string]any{"response": location[strings.Index(location, "#"):]}))
	require.Equal(e.t, "authorised", res["outcome"])
	return en["consent"].(map[string]any)["id"].(string)
}

func (e *env) dashCharge(key string, body map[string]any) string {
	e.t.Helper()
	return e.ok(http.StatusCreated, e.do("POST", "/v1/charges", key, body))["id"].(string)
}

func (e *env) chargeStatus(key, id string) string {
	e.t.Helper()
	return e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+id, key, nil))["status"].(string)
}

func newDashData(t *testing.T) *dashData {
	t.Helper()
	d := &dashData{env: newEnv(t)}
	e := d.env
	today := e.Today() // 2026-11-23
	d.consentA1 = e.dashEnrol(e.keyA, func(b map[string]any) {
		b["contract_id"], b["maximum_amount"], b["retries_accepted"] = "CTR0001", "5000.00", false
	})
	d.consentA2 = e.dashEnrol(e.keyA, func(b map[string]any) {
		b["contract_id"], b["maximum_amount"] = "CTR0002", "5000.00"
		b["debtor"] = map[string]any{"document": "11444777000161", "name": "João Araújo Comércio Ltda"}
	})
	d.consentB = e.dashEnrol(e.keyB, func(b map[string]any) { b["contract_id"] = "CTRB001" })

	d.dueCancelled, d.dueSettled, d.dueFailed = today.AddDays(9), today.AddDays(3), today.AddDays(4)
	d.cancelled = e.dashCharge(e.keyA, map[string]any{"consent_id": d.consentA1, "amount": "99.90", "due_date": d.dueCancelled.String(), "description": "mensalidade"})
	e.ok(http.StatusOK, e.do("POST", "/v1/charges/"+d.cancelled+"/cancel", e.keyA, nil))
	d.settled = e.dashCharge(e.keyA, map[string]any{"consent_id": d.consentA1, "amount": "1234.56", "due_date": d.dueSettled.String(), "description": "mensalidade", "external_id": "NF-1001"})
	d.failed = e.dashCharge(e.keyA, map[string]any{"consent_id": d.consentA2, "amount": "150.00", "due_date": d.dueFailed.String(), "description": "=1+1 taxa"})
	d.other = e.dashCharge(e.keyB, map[string]any{"consent_id": d.consentB, "amount": "277.77", "due_date": d.dueSettled.String()})
	// No funds on the due date nor on any of the three next-day retries,
	// mornings and the bank's own evening attempts alike.
	var no []sandbox.Outcome
	for range 4 {
		no = append(no, sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning), sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening))
	}
	require.NoError(t, e.Bank.ScriptConsentSettlement(d.consentA2, no...))
	e.runUntil(sandboxtest.At(d.dueFailed.AddDays(3), 22, 0), time.Hour)

	d.duePlanned = d.dueSettled.AddDays(30)
	d.planned = e.dashCharge(e.keyA, map[string]any{"consent_id": d.consentA1, "amount": "1234.56", "due_date": d.duePlanned.String()})
	for id, want := range map[string]string{d.settled: "SETTLED", d.failed: "FAILED", d.cancelled: "CANCELLED", d.planned: "PLANNED"} {
		require.Equal(t, want, e.chargeStatus(e.keyA, id), "charge %s", id)
	}
	require.Equal(t, "SETTLED", e.chargeStatus(e.keyB, d.other))
	return d
}

// report pages through GET /v1/charges/report with query q.
func (d *dashData) report(key string, q url.Values) []map[string]any {
	d.t.Helper()
	var rows []map[string]any
	for cursor := ""; ; {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		if cursor != "" {
			qq.Set("cursor", cursor)
		}
		page := d.ok(http.StatusOK, d.do("GET", "/v1/charges/report?"+qq.Encode(), key, nil))
		for _, r := range page["data"].([]any) {
			rows = append(rows, r.(map[string]any))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return rows
		}
		cursor = next
	}
}

func rowIDs(rows []map[string]any) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r["charge_id"].(string))
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

func TestDashboardAPI(t *testing.T) {
	t.Parallel()
	d := newDashData(t)
	e := d.env
	all := sorted(d.settled, d.failed, d.cancelled, d.planned)

	t.Run("ReportRows", func(t *testing.T) {
		rows := d.report(e.keyA, nil)
		require.Equal(t, all, rowIDs(rows), "A's charges, not B's")
		byID := map[string]map[string]any{}
		for _, r := range rows {
			byID[r["charge_id"].(string)] = r
		}
		f := byID[d.failed]
		assert.Equal(t, "FAILED", f["status"])
		assert.Equal(t, map[string]any{"code": "PAYER_BANK_REFUSED", "text": pixauto.ReasonPayerBankRefused.Text()}, f["status_reason"])
		assert.Equal(t, "CTR0002", f["contract_id"])
		assert.Equal(t, "retry", f["operation"])
		assert.Equal(t, float64(4), f["attempts"], "the original and three next-day retries")
		assert.Equal(t, map[string]any{"name": "João Araújo Comércio Ltda", "document": "**.***.***/**01-61"}, f["debtor"])
		assert.Equal(t, "150.00", f["amount"])
		assert.Equal(t, d.dueFailed.String(), f["due_date"])
		assert.Equal(t, "Next-day retry on 30/11/2026: rejected", f["detail"])

		s := byID[d.settled]
		assert.Equal(t, "SETTLED", s["status"])
		assert.NotContains(t, s, "status_reason")
		assert.Equal(t, "charge", s["operation"])
		assert.Equal(t, float64(1), s["attempts"])
		assert.Equal(t, map[string]any{"name": "Ana Souza", "document": "***.***.*47-25"}, s["debtor"])
		assert.Equal(t, "Original attempt on 26/11/2026: settled", s["detail"])
		assert.Equal(t, "NF-1001", s["external_id"])

		assert.Equal(t, "Original attempt on 02/12/2026: withdrawn before it was sent", byID[d.cancelled]["detail"])
		assert.NotContains(t, byID[d.cancelled], "status_reason")
		assert.Equal(t, "Original attempt on 26/12/2026: planned", byID[d.planned]["detail"])

		body := string(e.do("GET", "/v1/charges/report", e.keyA, nil).Body)
		assert.NotContains(t, body, "SALDO", "balance reasons are never shown as such")
		assert.NotContains(t, body, sandbox.DefaultPayerCPF, "documents are masked")
		assert.NotContains(t, body, "11444777000161")
	})

	t.Run("ReportPagingAndFilters", func(t *testing.T) {
		var seen []map[string]any
		q := url.Values{"limit": {"1"}}
		for cursor := ""; ; {
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			page := e.ok(http.StatusOK, e.do("GET", "/v1/charges/report?"+q.Encode(), e.keyA, nil))
			data := page["data"].([]any)
			require.Len(t, data, 1)
			seen = append(seen, data[0].(map[string]any))
			next, _ := page["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		assert.Equal(t, all, rowIDs(seen), "four pages of one, each charge once")

		assert.Equal(t, []string{d.failed}, rowIDs(d.report(e.keyA, url.Values{"status": {"FAILED"}})))
		assert.Equal(t, sorted(d.failed, d.cancelled), rowIDs(d.report(e.keyA, url.Values{"status": {"FAILED", "CANCELLED"}})))
		assert.Equal(t, sorted(d.cancelled, d.planned, d.settled), rowIDs(d.report(e.keyA, url.Values{"consent_id": {d.consentA1}})))
		assert.Equal(t, []string{d.settled}, rowIDs(d.report(e.keyA, url.Values{"due_from": {d.dueSettled.String()}, "due_to": {d.dueSettled.String()}})))
		assert.Equal(t, sorted(d.cancelled, d.planned), rowIDs(d.report(e.keyA, url.Values{"due_from": {d.dueFailed.AddDays(1).String()}})))
		assert.Empty(t, d.report(e.keyA, url.Values{"consent_id": {d.consentB}}), "another receiver's consent selects nothing")
		assert.Equal(t, []string{d.other}, rowIDs(d.report(e.keyB, nil)))

		p := e.problemOf(http.StatusBadRequest, server.CodeValidationFailed, e.do("GET", "/v1/charges/report?due_from=2026-12-01&due_to=2026-11-01", e.keyA, nil))
		assert.Equal(t, []string{"due_to"}, fieldsOf(p))
		p = e.problemOf(http.StatusBadRequest, server.CodeValidationFailed, e.do("GET", "/v1/charges/report?status=LOST", e.keyA, nil))
		assert.Equal(t, []string{"status[0]"}, fieldsOf(p))
		p = e.problemOf(http.StatusBadRequest, server.CodeValidationFailed, e.do("GET", "/v1/charges/report?due_from=2026-02-30", e.keyA, nil))
		assert.Equal(t, []string{"due_from"}, fieldsOf(p), "not a calendar date")
	})

	t.Run("CSV", func(t *testing.T) {
		res := e.do("GET", "/v1/charges/export?format=csv", e.keyA, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		assert.Equal(t, `attachment; filename="charges-2026-11-30.csv"`, res.Header.Get("Content-Disposition"), "named after the server's today")
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		require.True(t, bytes.HasPrefix(res.Body, []byte("\xEF\xBB\xBF")), "UTF-8 byte order mark for Excel")
		assert.Contains(t, string(res.Body), "\r\n", "CRLF line ends")
		recs := parseCSV(t, res.Body)
		require.Equal(t, []string{"Code", "Contract", "Date", "Operation", "Attempts", "Description", "Customer", "Document", "Amount", "Status", "Detail",
			"Invoice", "Remittance information", "Charge ID", "Consent ID"}, recs[0])
		byID := map[string][]string{}
		for _, r := range recs[1:] {
			byID[r[13]] = r
		}
		require.Equal(t, all, slices.Sorted(maps.Keys(byID)))
		assert.Equal(t, []string{"PAYER_BANK_REFUSED", "CTR0002", "27/11/2026", "retry", "4", pixauto.ReasonPayerBankRefused.Text(),
			"João Araújo Comércio Ltda", "**.***.***/**01-61", "150,00", "FAILED", "Next-day retry on 30/11/2026: rejected",
			"", "'=1+1 taxa", d.failed, d.consentA2}, byID[d.failed], "the formula-like description is quoted")
		assert.Equal(t, []string{"", "CTR0001", "26/11/2026", "charge", "1", "", "Ana Souza", "***.***.*47-25", "1234,56", "SETTLED",
			"Original attempt on 26/11/2026: settled", "NF-1001", "mensalidade", d.settled, d.consentA1}, byID[d.settled])
		assert.Equal(t, "CANCELLED", byID[d.cancelled][9])
		assert.Equal(t, "99,90", byID[d.cancelled][8])
		assert.NotContains(t, string(res.Body), "SALDO")
		assert.NotContains(t, string(res.Body), d.other)

		filtered := parseCSV(t, e.do("GET", "/v1/charges/export?format=csv&status=FAILED&status=SETTLED&due_from=2026-11-27&due_to=2026-11-27", e.keyA, nil).Body)
		require.Len(t, filtered, 2)
		assert.Equal(t, d.failed, filtered[1][13])

		b := parseCSV(t, e.do("GET", "/v1/charges/export?format=csv", e.keyB, nil).Body)
		require.Len(t, b, 2, "B's export has B's charge only")
		assert.Equal(t, d.other, b[1][13])
		assert.Equal(t, "277,77", b[1][8])

		empty := parseCSV(t, e.do("GET", "/v1/charges/export?format=csv&consent_id="+url.QueryEscape(d.consentB), e.keyA, nil).Body)
		assert.Len(t, empty, 1, "the header only")
	})

	t.Run("XLSX", func(t *testing.T) {
		res := e.do("GET", "/v1/charges/export?format=xlsx", e.keyA, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", res.Header.Get("Content-Type"))
		assert.Equal(t, `attachment; filename="charges-2026-11-30.xlsx"`, res.Header.Get("Content-Disposition"))
		x := readXLSX(t, res.Body)
		require.Len(t, x.rows, 5)
		assert.Equal(t, "Code", x.rows[0][0])
		assert.Equal(t, "Consent ID", x.rows[0][14])
		i := slices.IndexFunc(x.rows, func(r []string) bool { return len(r) > 13 && r[13] == d.settled })
		require.Positive(t, i)
		r := x.rows[i]
		assert.Equal(t, []string{"", "CTR0001"}, r[:2])
		assert.Equal(t, "1234.56", r[8], "a number, not text")
		assert.Equal(t, "NF-1001", r[11])
		x.assertNumber(t, i, 9, 1234.56, `"R$" #,##0.00`)
		x.assertDate(t, i, 3, d.dueSettled)
		x.assertNumber(t, i, 5, 1, "")
		j := slices.IndexFunc(x.rows, func(r []string) bool { return len(r) > 13 && r[13] == d.failed })
		require.Positive(t, j)
		assert.Equal(t, []string{"PAYER_BANK_REFUSED", "CTR0002"}, x.rows[j][:2])
		assert.Equal(t, "=1+1 taxa", x.rows[j][12], "a text cell, never a formula")
		f, err := x.file.GetCellFormula("Charges", cellName(13, j+1))
		require.NoError(t, err)
		assert.Empty(t, f)
		x.assertNumber(t, j, 9, 150, `"R$" #,##0.00`)
		x.assertNumber(t, j, 5, 4, "")
		assert.NotContains(t, strings.Join(slices.Concat(x.rows...), " "), "SALDO")

		xb := readXLSX(t, e.do("GET", "/v1/charges/export?format=xlsx&status=SETTLED", e.keyB, nil).Body)
		require.Len(t, xb.rows, 2)
		assert.Equal(t, d.other, xb.rows[1][13])
		xe := readXLSX(t, e.do("GET", "/v1/charges/export?format=xlsx&status=PLANNED&due_to=2026-11-01", e.keyA, nil).Body)
		assert.Len(t, xe.rows, 1, "the header only")
	})

	t.Run("ExportRequests", func(t *testing.T) {
		for name, header := range map[string]string{"none": "", "malformed": "Bearer pxa_x", "forged": "Bearer " + e.keyA[:20] + strings.Repeat("a", len(e.keyA)-20)} {
			for _, path := range []string{"/v1/charges/export?format=csv", "/v1/charges/export?format=xlsx", "/v1/charges/report"} {
				req, err := http.NewRequest("GET", e.api.URL+path, nil)
				require.NoError(t, err)
				if header != "" {
					req.Header.Set("Authorization", header)
				}
				res, err := e.api.Client().Do(req)
				require.NoError(t, err)
				res.Body.Close()
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s with %s key", path, name)
				assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			}
		}
		p := e.problemOf(http.StatusBadRequest, server.CodeValidationFailed, e.do("GET", "/v1/charges/export", e.keyA, nil))
		assert.Equal(t, []string{"format"}, fieldsOf(p))
		p = e.problemOf(http.StatusBadRequest, server.CodeValidationFailed, e.do("GET", "/v1/charges/export?format=pdf", e.keyA, nil))
		assert.Equal(t, []string{"format"}, fieldsOf(p))
		p = e.problemOf(http.StatusBadRequest, server.CodeValidationFailed, e.do("GET", "/v1/charges/export?format=csv&due_from=2026-12-01&due_to=2026-11-30", e.keyA, nil))
		assert.Equal(t, []string{"due_to"}, fieldsOf(p))
		e.problemOf(http.StatusMethodNotAllowed, server.CodeMethodNotAllowed, e.do("POST", "/v1/charges/export?format=csv", e.keyA, map[string]any{}))
		assert.NotContains(t, e.logs.String(), e.keyA[16:], "keys are never logged")
	})

}

// The exports read the store a page at a time: with pages of one charge,
// every charge is still exported once, in id order, and the CSV is sent
// as it is written. A store failure before anything is written is a
// problem; after the CSV has started, the response is cut off, so that
// the client sees a failed download rather than a short file that looks
// whole. (Not parallel: it changes the page size of every export while
// it runs, and Go runs the parallel tests after the sequential ones.)
func TestDashboardExportPaging(t *testing.T) {
	d := newDashData(t)
	e := d.env
	all := sorted(d.settled, d.failed, d.cancelled, d.planned)
	defer server.SetExportPageSize(1)()

	req, err := http.NewRequest("GET", e.api.URL+"/v1/charges/export?format=csv", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.keyA)
	resp, err := e.api.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, int64(-1), resp.ContentLength, "streamed, not sized in advance")
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var ids []string
	for _, r := range parseCSV(t, b)[1:] {
		ids = append(ids, r[13])
	}
	assert.Equal(t, all, ids, "every charge once, in id order, one page at a time")
	x := readXLSX(t, e.do("GET", "/v1/charges/export?format=xlsx", e.keyA, nil).Body)
	require.Len(t, x.rows, 5)
	for i, id := range all {
		assert.Equal(t, id, x.rows[i+1][13])
	}

	for _, failAll := range []bool{false, true} {
		in, err := pixauto.New(pixauto.Config{
			CNPJ: e.ITPCNPJ, ISPB: sandboxtest.ITPISPB, Store: failingStore{Store: e.store, failAll: failAll}, SecretKey: secretKey, Clock: e.Clock,
			Holders: []pixauto.Holder{{ID: "bank", FAPI: e.FAPI, BaseURL: e.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		})
		require.NoError(t, err)
		srv, err := server.New(server.Config{Initiator: in, Store: e.store, HolderIDs: []string{"bank"}, SecretKey: secretKey, Clock: e.Clock})
		require.NoError(t, err)
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		for _, format := range []string{"csv", "xlsx"} {
			req, err := http.NewRequest("GET", ts.URL+"/v1/charges/export?format="+format, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+e.keyA)
			res, err := ts.Client().Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if failAll || format == "xlsx" {
				require.NoError(t, err)
				assert.Equal(t, http.StatusInternalServerError, res.StatusCode, "%s, failing at once: %v: %s", format, failAll, body)
				assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
				continue
			}
			assert.Equal(t, http.StatusOK, res.StatusCode)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the cut-off CSV fails to read")
			assert.Contains(t, string(body), "Code;Contract", "the first page was written")
		}
	}
}

// failingStore fails ListCharges, at once or from the second page on.
type failingStore struct {
	pixauto.Store
	failAll bool
}

var errStoreDown = errors.New("store down")

func (s failingStore) ListCharges(ctx context.Context, f pixauto.ChargeFilter) iter.Seq2[*pixauto.ChargeRecord, error] {
	if s.failAll || f.After != "" {
		return func(yield func(*pixauto.ChargeRecord, error) bool) { yield(nil, errStoreDown) }
	}
	return s.Store.ListCharges(ctx, f)
}

// parseCSV reads an export: a BOM, then ';'-separated records.
func parseCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")), "BOM: %q", b[:min(len(b), 20)])
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.Comma = ';'
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	return recs
}

// xlsxSheet is an exported workbook's Charges sheet.
type xlsxSheet struct {
	file *excelize.File
	rows [][]string
}

func readXLSX(t *testing.T, b []byte) xlsxSheet {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	assert.Equal(t, []string{"Charges"}, f.GetSheetList())
	rows, err := f.GetRows("Charges", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	return xlsxSheet{file: f, rows: rows}
}

func cellName(col, row int) string {
	c, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(err)
	}
	return c
}

// assertNumber checks that the cell at rows[i], column col (1-based) is a
// number with the given value and custom format ("" for none).
func (x xlsxSheet) assertNumber(t *testing.T, i, col int, want float64, format string) {
	t.Helper()
	cell := cellName(col, i+1)
	typ, err := x.file.GetCellType("Charges", cell)
	require.NoError(t, err)
	assert.Contains(t, []excelize.CellType{excelize.CellTypeNumber, excelize.CellTypeUnset}, typ, "%s is a number", cell)
	v, err := x.file.GetCellValue("Charges", cell, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	assert.Equal(t, strconv.FormatFloat(want, 'f', -1, 64), v, cell)
	x.assertFormat(t, cell, format)
}

func (x xlsxSheet) assertFormat(t *testing.T, cell, format string) {
	t.Helper()
	id, err := x.file.GetCellStyle("Charges", cell)
	require.NoError(t, err)
	if format == "" {
		return
	}
	st, err := x.file.GetStyle(id)
	require.NoError(t, err)
	require.NotNil(t, st.CustomNumFmt, "%s has a number format", cell)
	assert.Equal(t, format, *st.CustomNumFmt, cell)
}

// assertDate checks a date cell: a serial number formatted dd/mm/yyyy.
func (x xlsxSheet) assertDate(t *testing.T, i, col int, want consent.Date) {
	t.Helper()
	cell := cellName(col, i+1)
	v, err := x.file.GetCellValue("Charges", cell, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	serial, err := strconv.ParseFloat(v, 64)
	require.NoError(t, err, "%s is a number: %q", cell, v)
	got, err := excelize.ExcelDateToTime(serial, false)
	require.NoError(t, err)
	assert.Equal(t, want, consent.DateOf(got, time.UTC), cell)
	x.assertFormat(t, cell, "dd/mm/yyyy")
	shown, err := x.file.GetCellValue("Charges", cell)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%02d/%02d/%04d", want.Day, want.Month, want.Year), shown)
}
