package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// oauthError is an RFC 6749 §5.2 error response (also used by PAR, DCR and
// DCM, whose error codes follow the same shape).
type oauthError struct {
	Status      int
	Code        string
	Description string
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(status int, code, format string, args ...any) *oauthError {
	return &oauthError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", format, args...)
}

func invalidClient(format string, args ...any) *oauthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", format, args...)
}

func invalidGrant(format string, args ...any) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", format, args...)
}

func invalidScope(format string, args ...any) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_scope", format, args...)
}

func invalidRequestObject(format string, args ...any) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_request_object", format, args...)
}

// refuseOAuth logs and writes an OAuth error as JSON.
func (b *Bank) refuseOAuth(w http.ResponseWriter, r *http.Request, e *oauthError) {
	b.log.Info("sandbox: refused", "method", r.Method, "path", r.URL.Path, "status", e.Status, "error", e.Code, "description", e.Description)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized && e.Code == "invalid_token" {
		h.Set("WWW-Authenticate", fmt.Sprintf("Bearer error=%q, error_description=%q", e.Code, e.Description))
	}
	writeJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}

// apiError is an Open Finance ResponseError: the unsigned JSON error body of
// the resource APIs (400, 401, 403, 404, 405, 406, 500…).
type apiError struct {
	Status int
	Code   string
	Title  string
	Detail string
	// Bearer, for 401, is the error code of the WWW-Authenticate challenge
	// ("" → a bare challenge).
	Bearer string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Detail }

func apiErr(status int, code, title, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Title: title, Detail: fmt.Sprintf(format, args...)}
}

// refuseAPI logs and writes a ResponseError, echoing interactionID.
func (b *Bank) refuseAPI(w http.ResponseWriter, r *http.Request, interactionID string, e *apiError) {
	b.log.Info("sandbox: refused", "method", r.Method, "path", r.URL.Path, "status", e.Status, "code", e.Code, "detail", e.Detail)
	h := w.Header()
	if interactionID != "" {
		h.Set("x-fapi-interaction-id", interactionID)
	}
	if e.Status == http.StatusUnauthorized {
		if e.Bearer != "" {
			h.Set("WWW-Authenticate", fmt.Sprintf("Bearer error=%q, error_description=%q", e.Bearer, e.Detail))
		} else {
			h.Set("WWW-Authenticate", "Bearer")
		}
	}
	body := map[string]any{
		"errors": []map[string]string{{"code": e.Code, "title": e.Title, "detail": e.Detail}},
		"meta":   map[string]any{"totalRecords": 1, "totalPages": 1, "requestDateTime": b.now().UTC().Format(time.RFC3339)},
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
