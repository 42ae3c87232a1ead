package sandbox

import (
	"context"
	"slices"
	"strings"
)

// Dynamic consent scopes: prefix → the product scope that must accompany it.
var consentScopes = map[string]string{
	"consent":           "payments",
	"recurring-consent": "recurring-payments",
}

// consentScope is a parsed dynamic consent scope "<prefix>:<id>".
type consentScope struct {
	Prefix string // "consent" or "recurring-consent"
	ID     string // the consent id, e.g. "urn:sandbox:…"
}

func (c consentScope) String() string { return c.Prefix + ":" + c.ID }

// parseConsentScope recognises a dynamic consent scope.
func parseConsentScope(s string) (consentScope, bool) {
	prefix, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return consentScope{}, false
	}
	if _, known := consentScopes[prefix]; !known {
		return consentScope{}, false
	}
	return consentScope{Prefix: prefix, ID: id}, true
}

// consentInfo is what the authorization server needs to know about a
// consent.
type consentInfo struct {
	// ClientID is the client that created the consent.
	ClientID string
	// Awaiting reports whether the consent can still be authorised.
	Awaiting bool
	// Active reports whether tokens for the consent may be issued or
	// refreshed (authorised, not consumed, revoked or expired).
	Active bool
}

// consentAPI is the seam through which a resource API that owns consents
// takes part in the authorization flow. The payments v4 mock implements it;
// the automatic-payments API plugs in the same way with registerConsentAPI.
type consentAPI interface {
	// lookupConsent returns the consent a dynamic scope names, if this API
	// owns it (for this scope prefix).
	lookupConsent(scope consentScope) (consentInfo, bool)
	// decideConsent records the payer's decision on a consent this API owns:
	// authorised by d.Subject, or rejected when d.Deny. It returns the
	// decision the authorization endpoint must answer with: d itself, or a
	// denial when the API refuses the approval (for instance a payer who is
	// not the consent's logged user).
	decideConsent(ctx context.Context, scope consentScope, req AuthorizationRequest, d AuthorizationDecision) AuthorizationDecision
}

// registerConsentAPI adds a consent-owning API. Call it from routes.
func (b *Bank) registerConsentAPI(api consentAPI) {
	b.consentAPIs = append(b.consentAPIs, api)
}

// findConsent returns the API owning the consent a scope names.
func (b *Bank) findConsent(scope consentScope) (consentAPI, consentInfo, bool) {
	for _, api := range b.consentAPIs {
		if info, ok := api.lookupConsent(scope); ok {
			return api, info, true
		}
	}
	return nil, consentInfo{}, false
}

// checkAuthorizationScope validates the scope of an authorization request
// for client c: openid, only registered scopes, at most one dynamic consent
// scope with its product scope, and a product scope only with its consent.
// It returns the consent scope, if any.
func (b *Bank) checkAuthorizationScope(c *client, scope string) (*consentScope, *oauthError) {
	scopes := strings.Fields(scope)
	if !slices.Contains(scopes, "openid") {
		return nil, invalidScope("scope must contain openid")
	}
	var consent *consentScope
	for _, s := range scopes {
		if cs, ok := parseConsentScope(s); ok {
			if consent != nil {
				return nil, invalidScope("scope names more than one consent")
			}
			consent = &cs
			continue
		}
		if !c.hasScope(s) {
			return nil, invalidScope("scope %q is not registered for the client", s)
		}
	}
	for prefix, product := range consentScopes {
		if !slices.Contains(scopes, product) {
			if consent != nil && consent.Prefix == prefix {
				return nil, invalidScope("scope %s requires %s", consent, product)
			}
			continue
		}
		if consent == nil || consent.Prefix != prefix {
			return nil, invalidScope("scope %s requires a %s:<id> scope naming the consent", product, prefix)
		}
	}
	if consent == nil {
		return nil, nil
	}
	_, info, ok := b.findConsent(*consent)
	switch {
	case !ok:
		return nil, invalidScope("consent %s does not exist", consent.ID)
	case info.ClientID != c.ID:
		return nil, invalidScope("consent %s belongs to another client", consent.ID)
	case !info.Awaiting:
		return nil, invalidScope("consent %s is not awaiting authorisation", consent.ID)
	}
	return consent, nil
}
