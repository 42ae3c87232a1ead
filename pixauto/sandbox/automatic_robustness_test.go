package sandbox_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// mutations returns copies of v with one member at a time replaced by a
// value of every other JSON type, or removed.
func mutations(v any) []any {
	var out []any
	var walk func(path []any)
	walk = func(path []any) {
		cur := valueAt(v, path)
		for _, repl := range []any{nil, json.Number("1"), "x", true, []any{}, obj{}, deleted{}} {
			out = append(out, replaced(v, path, repl))
		}
		switch c := cur.(type) {
		case obj:
			for k := range c {
				walk(append(append([]any(nil), path...), k))
			}
		case []any:
			for i := range c {
				walk(append(append([]any(nil), path...), i))
			}
		}
	}
	walk(nil)
	return out
}

type deleted struct{}

func valueAt(v any, path []any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(obj)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

// replaced deep-copies v with the value at path replaced (or deleted).
func replaced(v any, path []any, repl any) any {
	if len(path) == 0 {
		if _, del := repl.(deleted); del {
			return nil
		}
		return repl
	}
	switch c := v.(type) {
	case obj:
		out := obj{}
		for k, x := range c {
			out[k] = x
		}
		k := path[0].(string)
		if _, del := repl.(deleted); del && len(path) == 1 {
			delete(out, k)
			return out
		}
		out[k] = replaced(c[k], path[1:], repl)
		return out
	case []any:
		out := append([]any(nil), c...)
		i := path[0].(int)
		out[i] = replaced(c[i], path[1:], repl)
		return out
	}
	return v
}

// roundTrip turns a Go value into the generic JSON tree mutations works on.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return normalise(out)
}

func normalise(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := obj{}
		for k, x := range c {
			out[k] = normalise(x)
		}
		return out
	case []any:
		for i := range c {
			c[i] = normalise(c[i])
		}
	}
	return v
}

// TestMalformedBodiesGetAClearRefusal sends every one-member mutation of a
// valid body to every write endpoint: each answer must be a success or a
// 4xx the client can read (a panic would drop the connection, a bug give a
// 5xx).
func TestMalformedBodiesGetAClearRefusal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	if err := e.b.ScriptSettlement(payerCPF, sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI)); err != nil {
		t.Fatal(err)
	}
	data := e.consentData()
	id, ts, p := e.scheduled(data, "150.00")
	due := consent.MustDate(p.Date)
	cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
	for _, tt := range []struct {
		method, path string
		body         any
		ts           fapi.TokenSource
	}{
		{http.MethodPost, "/recurring-consents", e.consentData(), e.cc},
		{http.MethodPatch, "/recurring-consents/" + id, editData("Escola", "300.00"), e.cc},
		{http.MethodPatch, "/recurring-consents/" + id, obj{"status": "REVOKED", "revocation": obj{"revokedBy": "USUARIO", "revokedFrom": "INICIADORA", "reason": obj{"code": "REVOGADO_USUARIO", "detail": "x"}}}, e.cc},
		{http.MethodPost, "/pix/recurring-payments", e.recurrenceData(cycle.AddDays(31), due.AddDays(2), "10.00"), ts},
		{http.MethodPost, "/pix/recurring-payments/" + p.ID + "/retry", obj{"endToEndId": e.e2e(due), "date": due.String()}, e.cc},
		{http.MethodPatch, "/pix/recurring-payments/" + p.ID, obj{"status": "CANC", "cancellation": obj{"cancelledBy": obj{"document": obj{"identification": payerCPF, "rel": "CPF"}}}}, e.cc},
	} {
		t.Run(tt.method+" "+strings.SplitN(tt.path, "/", 4)[1], func(t *testing.T) {
			for i, body := range mutations(roundTrip(t, tt.body)) {
				resp, err := e.c.Do(t.Context(), fapi.Call{Method: tt.method, URL: e.url(tt.path), Data: body, Token: tt.ts, IdempotencyKey: uuid.NewString()})
				var ae *fapi.APIError
				switch {
				case err == nil && resp.StatusCode < 300:
				case errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && len(ae.Errors) > 0:
				default:
					raw, _ := json.Marshal(body)
					t.Fatalf("mutation %d %s: %v", i, raw, err)
				}
			}
		})
	}
	// Revoked by one of the mutations or not, the bank still answers.
	e.must(http.StatusOK)(e.call(http.MethodGet, "/recurring-consents/"+id, nil, e.cc))
}

// TestAutomaticRequestChecks: headers and paths the prelude refuses.
func TestAutomaticRequestChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	id := e.createConsent(e.consentData())
	hc := e.b.Client(e.b.ITP)
	t.Cleanup(hc.CloseIdleConnections)
	tok, err := e.cc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.url(path), nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("x-fapi-interaction-id", uuid.NewString())
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tt := range []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"Accept text/html", "/recurring-consents/" + id, map[string]string{"Accept": "text/html"}, http.StatusNotAcceptable},
		{"Accept application/jwt", "/recurring-consents/" + id, map[string]string{"Accept": "application/jwt"}, http.StatusOK},
		{"no interaction id", "/recurring-consents/" + id, map[string]string{"x-fapi-interaction-id": "nope"}, http.StatusBadRequest},
		{"malformed consent id", "/recurring-consents/not-a-urn", nil, http.StatusBadRequest},
		{"unknown path", "/recurring-things", nil, http.StatusNotFound},
		{"list with a bad date", "/pix/recurring-payments?recurringConsentId=" + id + "&startDate=2026-13-01", nil, http.StatusBadRequest},
		{"list with dates reversed", "/pix/recurring-payments?recurringConsentId=" + id + "&startDate=2026-03-10&endDate=2026-03-01", nil, http.StatusBadRequest},
		{"list of an unknown consent", "/pix/recurring-payments?recurringConsentId=urn:x:y", nil, http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(tt.path, tt.header)
			if resp.StatusCode != tt.status || resp.Header.Get("x-v") != "2.2.0" {
				t.Fatalf("%d x-v %q, want %d", resp.StatusCode, resp.Header.Get("x-v"), tt.status)
			}
			if tt.status >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("error Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
	// A consent of another ITP: 404 for the consent, 400 for its payments.
	other := e.client(newITPOf(t, e.b), 0)
	otherCC := other.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	_, err = e.do(other, http.MethodGet, "/recurring-consents/"+id, nil, otherCC)
	apiError(t, err, http.StatusNotFound)
	_, err = e.do(other, http.MethodGet, "/pix/recurring-payments?recurringConsentId="+id, nil, otherCC)
	apiError(t, err, http.StatusBadRequest)
}

// TestAutomaticV200: a 2.0.0 bank speaks the 2.0/2.1 wire form.
func TestAutomaticV200(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{APIVersion: "2.0.0"})
	data := e.consentData()
	_, ts := e.authorised(data)
	cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
	e.advanceTo(at(cycle.AddDays(-5), 9, 0))
	p := e.pay(ts, e.recurrenceData(cycle, cycle, "100.00"))
	if p.LocalInstrument != "MANU" || p.Reference != fmt.Sprintf("M%02d-%d", cycle.Month, cycle.Year) {
		t.Fatalf("2.0.0 recurrence: %+v", p)
	}
	_, err := e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"endToEndId": e.e2e(cycle), "date": cycle.String()}, e.cc)
	apiError(t, err, http.StatusNotFound)
}
