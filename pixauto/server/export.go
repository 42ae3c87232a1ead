package server

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// GET /v1/charges/export: the report rows of a filter as a file, read from
// the store a page at a time (keyset paging through ListCharges).
//
// CSV is written for Excel in Brazilian Portuguese, which opens a .csv with
// the system's list separator and decimal mark: UTF-8 with a byte order
// mark (without it Excel reads ANSI and breaks accents), ';' between
// fields, CRLF, amounts with a decimal comma and no thousands separator
// (1234,56, read as a number), dates dd/mm/yyyy. Text that a spreadsheet
// would evaluate as a formula is prefixed with "'". The file is written as
// the pages are read; a failure after the first byte aborts the response
// (the client sees a broken download, never a short file that looks
// whole).
//
// XLSX has amounts as numbers formatted "R$" #,##0.00 (Excel shows the
// locale's separators: R$ 1.234,56 in pt-BR), dates as dates formatted
// dd/mm/yyyy and attempts as integers, in a table with filters on the
// header. The rows go through excelize's StreamWriter, which keeps at most
// 16 MiB in memory and spills the rest to a temporary file; the workbook is
// then written to the response.

// exportPageSize is how many charges an export reads from the store at a
// time.
var exportPageSize = 500

var exportColumns = []string{
	"Code", "Contract", "Date", "Operation", "Attempts", "Description", "Customer", "Document", "Amount", "Status", "Detail",
	"Invoice", "Remittance information", "Charge ID", "Consent ID",
}

// ExportCharges writes the caller's filtered charges as CSV or XLSX.
func (s *Server) ExportCharges(ctx context.Context, req api.ExportChargesRequestObject) (api.ExportChargesResponseObject, error) {
	q := req.Params
	filter, p := reportFilter(ctx, q.Status, q.ConsentId, q.DueFrom, q.DueTo)
	if p != nil {
		return nil, p
	}
	rd := s.newReportReader(filter, exportPageSize)
	name := "charges-" + consent.Today(s.clock.Now()).String() + "." + string(q.Format)
	if q.Format == api.Xlsx {
		f, err := s.buildXLSX(ctx, rd)
		if err != nil {
			return nil, err
		}
		return xlsxExport{ctx: ctx, file: f, filename: name, log: s.log}, nil
	}
	// The first page is read before anything is written, so that a store
	// that fails at once is an error answer, not a broken file.
	first, err := rd.next(ctx)
	if err != nil {
		return nil, err
	}
	return csvExport{ctx: ctx, rd: rd, first: first, filename: name, log: s.log}, nil
}

func setDownloadHeaders(w http.ResponseWriter, contentType, filename string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// abortExport ends a response that has started: the client sees the
// transfer fail.
func abortExport(ctx context.Context, log *slog.Logger, err error) {
	log.ErrorContext(ctx, "export aborted", "request_id", requestIDFrom(ctx), "err", err)
	panic(http.ErrAbortHandler)
}

type csvExport struct {
	ctx      context.Context
	rd       *reportReader
	first    []reportRow
	filename string
	log      *slog.Logger
}

func (e csvExport) VisitExportChargesResponse(w http.ResponseWriter) error {
	setDownloadHeaders(w, "text/csv; charset=utf-8", e.filename)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	if _, err := w.Write([]byte("\uFEFF")); err != nil {
		abortExport(e.ctx, e.log, err)
	}
	_ = cw.Write(exportColumns)
	for rows := e.first; len(rows) > 0; {
		for _, r := range rows {
			_ = cw.Write(csvRecord(r))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			abortExport(e.ctx, e.log, err)
		}
		_ = rc.Flush()
		var err error
		if rows, err = e.rd.next(e.ctx); err != nil {
			abortExport(e.ctx, e.log, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		abortExport(e.ctx, e.log, err)
	}
	return nil
}

// csvText keeps a spreadsheet from evaluating a text field as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// brAmount is an amount as Brazilian Excel reads a number: 1234,56.
func brAmount(a consent.Amount) string { return strings.Replace(a.String(), ".", ",", 1) }

func csvRecord(r reportRow) []string {
	ch := r.charge
	return []string{
		string(r.reason), csvText(r.contract), brDate(ch.DueDate), string(r.operation()), strconv.Itoa(r.attempts),
		r.reason.Text(), csvText(r.debtorName), r.debtorDoc, brAmount(ch.Amount), string(ch.Status), csvText(r.detail),
		csvText(ch.ExternalID), csvText(ch.Description), ch.ID, ch.ConsentID,
	}
}

// The XLSX number formats.
const (
	xlsxAmountFormat = `"R$" #,##0.00`
	xlsxDateFormat   = `dd/mm/yyyy`
	xlsxSheet        = "Charges"
)

// buildXLSX writes every row of rd into a new workbook.
func (s *Server) buildXLSX(ctx context.Context, rd *reportReader) (f *excelize.File, err error) {
	f = excelize.NewFile()
	defer func() {
		if err != nil {
			f.Close()
			f = nil
		}
	}()
	if err := f.SetSheetName("Sheet1", xlsxSheet); err != nil {
		return nil, err
	}
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	amountFmt, dateFmt := xlsxAmountFormat, xlsxDateFormat
	amount, err := f.NewStyle(&excelize.Style{CustomNumFmt: &amountFmt})
	if err != nil {
		return nil, err
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(xlsxSheet)
	if err != nil {
		return nil, err
	}
	widths := []float64{26, 16, 12, 10, 9, 50, 28, 20, 14, 12, 44, 16, 28, 38, 40}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	cells := make([]any, len(exportColumns))
	for i, c := range exportColumns {
		cells[i] = excelize.Cell{StyleID: header, Value: c}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return nil, err
	}
	n := 1
	for {
		rows, err := rd.next(ctx)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			n++
			cell, _ := excelize.CoordinatesToCellName(1, n)
			if err := sw.SetRow(cell, xlsxRecord(r, amount, date)); err != nil {
				return nil, err
			}
		}
	}
	if n > 1 {
		last, _ := excelize.CoordinatesToCellName(len(exportColumns), n)
		if err := sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: "Charges", StyleName: "TableStyleLight9"}); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	return f, nil
}

// optCell leaves an empty text out of the sheet.
func optCell(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func xlsxRecord(r reportRow, amountStyle, dateStyle int) []any {
	ch := r.charge
	var due any
	if !ch.DueDate.IsZero() {
		due = excelize.Cell{StyleID: dateStyle, Value: ch.DueDate.In(time.UTC)}
	}
	return []any{
		optCell(string(r.reason)), optCell(r.contract), due, string(r.operation()), r.attempts,
		optCell(r.reason.Text()), optCell(r.debtorName), optCell(r.debtorDoc),
		excelize.Cell{StyleID: amountStyle, Value: float64(ch.Amount) / 100}, string(ch.Status), optCell(r.detail),
		optCell(ch.ExternalID), optCell(ch.Description), ch.ID, ch.ConsentID,
	}
}

type xlsxExport struct {
	ctx      context.Context
	file     *excelize.File
	filename string
	log      *slog.Logger
}

func (e xlsxExport) VisitExportChargesResponse(w http.ResponseWriter) error {
	defer e.file.Close()
	setDownloadHeaders(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", e.filename)
	w.WriteHeader(http.StatusOK)
	if err := e.file.Write(w); err != nil {
		abortExport(e.ctx, e.log, fmt.Errorf("write xlsx: %w", err))
	}
	return nil
}
