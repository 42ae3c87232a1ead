package consent_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/stretchr/testify/require"
)

// The three PATCH shapes are the only implementations of consent.Patch.
var (
	_ consent.Patch = (*consent.EditRequest)(nil)
	_ consent.Patch = (*consent.RevocationRequest)(nil)
	_ consent.Patch = (*consent.RejectionRequest)(nil)
)

func companyUser(c *consent.Consent) {
	c.BusinessEntity = &consent.BusinessEntity{Document: consent.Document{Identification: "11222333000181", Rel: consent.RelCNPJ}}
}

const (
	wantUserJSON    = `"loggedUser":{"document":{"identification":"12345678901","rel":"CPF"}}`
	wantSignalsJSON = `"riskSignals":{"deviceId":"00aa11bb22cc33dd","isRootedDevice":false,"screenBrightness":0.8,` +
		`"elapsedTimeSinceBoot":6356027,"osVersion":"14","userTimeZoneOffset":"-03","language":"pt",` +
		`"screenDimensions":{"height":2340,"width":1080},"accountTenure":"2020-05-21"}`
)

func TestNewEdit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		current  *consent.Consent
		change   consent.EditChange
		now      time.Time
		wantJSON string
	}{
		{name: "raise the maximum keeps expiry and name",
			current: authorised(), change: consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],"expirationDateTime":"2027-03-01T23:59:59Z",` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"500.00"}},` + wantUserJSON + `}`},
		{name: "lower the maximum to the floor",
			current: authorised(), change: consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("50.00"))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],"expirationDateTime":"2027-03-01T23:59:59Z",` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"50.00"}},` + wantUserJSON + `}`},
		{name: "make the maximum indefinite omits it",
			current: authorised(), change: consent.EditChange{MaximumVariableAmount: consent.IndefiniteMaximum()},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],"expirationDateTime":"2027-03-01T23:59:59Z",` + wantUserJSON + `}`},
		{name: "cap an uncapped consent",
			current: authorised(uncappedConsent), change: consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("80.00"))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],"expirationDateTime":"2027-03-01T23:59:59Z",` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"80.00"}},` + wantUserJSON + `}`},
		{name: "extend the expiry keeps the maximum",
			current: authorised(), change: consent.EditChange{Expiration: consent.SetExpiration(consent.NewDate(2028, 3, 1))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],"expirationDateTime":"2028-03-01T23:59:59Z",` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"300.00"}},` + wantUserJSON + `}`},
		{name: "shorten the expiry to today",
			current: authorised(), change: consent.EditChange{Expiration: consent.SetExpiration(consent.NewDate(2026, 3, 2))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],"expirationDateTime":"2026-03-02T23:59:59Z",` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"300.00"}},` + wantUserJSON + `}`},
		{name: "make the expiry indefinite omits it",
			current: authorised(), change: consent.EditChange{Expiration: consent.IndefiniteExpiration()},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"300.00"}},` + wantUserJSON + `}`},
		{name: "expiry of a fixed consent sends no maximum",
			current: authorised(fixedConsent), change: consent.EditChange{Expiration: consent.SetExpiration(consent.NewDate(2028, 3, 1))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],"expirationDateTime":"2028-03-01T23:59:59Z",` + wantUserJSON + `}`},
		{name: "maximum of a consent without expiry keeps it without",
			current: authorised(noExpiry), change: consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("400.00"))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"400.00"}},` + wantUserJSON + `}`},
		{name: "rename only sends only the creditors",
			current: authorised(), change: consent.EditChange{CreditorName: "Forma Academia S.A."},
			wantJSON: `{"creditors":[{"name":"Forma Academia S.A."}]}`},
		{name: "rename with an expiry change sends everything",
			current: authorised(), change: consent.EditChange{CreditorName: "Forma Academia S.A.", Expiration: consent.SetExpiration(consent.NewDate(2028, 1, 31))},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Forma Academia S.A."}],"expirationDateTime":"2028-01-31T23:59:59Z",` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"300.00"}},` + wantUserJSON + `}`},
		{name: "the company of the consent is sent along",
			current: authorised(companyUser), change: consent.EditChange{Expiration: consent.IndefiniteExpiration()},
			wantJSON: `{` + wantSignalsJSON + `,"creditors":[{"name":"Academia Forma Ltda"}],` +
				`"recurringConfiguration":{"automatic":{"maximumVariableAmount":"300.00"}},` + wantUserJSON +
				`,"businessEntity":{"document":{"identification":"11222333000181","rel":"CNPJ"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			before := *tt.current
			edit, err := consent.NewEdit(tt.current, tt.change, consent.NewLoggedUser("12345678901"), signals(), now)
			require.NoError(t, err)
			b, err := json.Marshal(edit)
			require.NoError(t, err)
			require.JSONEq(t, tt.wantJSON, string(b))
			require.Equal(t, before, *tt.current, "the current consent is not modified")
		})
	}
}

func TestNewEditCopiesValues(t *testing.T) {
	t.Parallel()
	current := authorised(companyUser)
	edit, err := consent.NewEdit(current, consent.EditChange{Expiration: consent.IndefiniteExpiration()},
		consent.NewLoggedUser("12345678901"), signals(), testNow)
	require.NoError(t, err)
	*edit.RecurringConfiguration.Automatic.MaximumVariableAmount = 1
	edit.BusinessEntity.Document.Identification = "x"
	require.Equal(t, consent.MustAmount("300.00"), *current.Automatic().MaximumVariableAmount)
	require.Equal(t, "11222333000181", current.BusinessEntity.Document.Identification)
}

func TestNewEditRules(t *testing.T) {
	t.Parallel()
	const maxPath = "recurringConfiguration.automatic.maximumVariableAmount"
	sweeping := func(c *consent.Consent) {
		c.RecurringConfiguration = consent.RecurringConfiguration{Sweeping: json.RawMessage(`{"useOverdraftLimit":true}`)}
	}
	raise := consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))}
	tests := []struct {
		name    string
		current *consent.Consent
		change  consent.EditChange
		user    *consent.LoggedUser
		signals func(s *consent.RiskSignals) *consent.RiskSignals
		now     time.Time
		want    []violation
	}{
		// Item 63.
		{name: "no consent", current: nil, change: raise, want: []violation{{"", 63, consent.ErrRequired}}},
		{name: "awaiting authorisation", current: authorised(withStatus(consent.StatusAwaitingAuthorisation)), change: raise,
			want: []violation{{"status", 63, consent.ErrInvalidState}}},
		{name: "partially accepted", current: authorised(withStatus(consent.StatusPartiallyAccepted)), change: raise,
			want: []violation{{"status", 63, consent.ErrInvalidState}}},
		{name: "revoked", current: authorised(withStatus(consent.StatusRevoked)), change: raise,
			want: []violation{{"status", 63, consent.ErrInvalidState}}},
		{name: "consumed", current: authorised(withStatus(consent.StatusConsumed)), change: raise,
			want: []violation{{"status", 63, consent.ErrInvalidState}}},
		{name: "rejected, even a rename", current: authorised(withStatus(consent.StatusRejected)), change: consent.EditChange{CreditorName: "Nova"},
			want: []violation{{"status", 63, consent.ErrInvalidState}}},
		{name: "empty status", current: authorised(withStatus("")), change: raise,
			want: []violation{{"status", 63, consent.ErrInvalidState}}},
		{name: "sweeping consent", current: authorised(sweeping), change: raise,
			want: []violation{{"recurringConfiguration.automatic", 63, consent.ErrNotAllowed}}},
		{name: "consent without creditor", current: authorised(func(c *consent.Consent) { c.Creditors = nil }), change: raise,
			want: []violation{{"creditors", 63, consent.ErrRequired}}},
		{name: "new name malformed", current: authorised(), change: consent.EditChange{CreditorName: "Loja #1"},
			want: []violation{{"creditors[0].name", 10, consent.ErrFormat}}},

		// Item 64.
		{name: "no risk signals", current: authorised(), change: raise,
			signals: func(*consent.RiskSignals) *consent.RiskSignals { return nil },
			want:    []violation{{"riskSignals", 64, consent.ErrRequired}}},
		{name: "risk signals without the required fields", current: authorised(), change: raise,
			signals: func(*consent.RiskSignals) *consent.RiskSignals { return &consent.RiskSignals{} },
			want: []violation{
				{"riskSignals.deviceId", 64, consent.ErrRequired}, {"riskSignals.osVersion", 64, consent.ErrRequired},
				{"riskSignals.userTimeZoneOffset", 64, consent.ErrRequired}, {"riskSignals.language", 64, consent.ErrRequired},
				{"riskSignals.screenDimensions", 64, consent.ErrRequired}, {"riskSignals.accountTenure", 64, consent.ErrRequired},
			}},
		{name: "time zone offset malformed", current: authorised(), change: raise,
			signals: func(s *consent.RiskSignals) *consent.RiskSignals { s.UserTimeZoneOffset = "GMT-3"; return s },
			want:    []violation{{"riskSignals.userTimeZoneOffset", 64, consent.ErrFormat}}},
		{name: "account tenure not a date", current: authorised(), change: raise,
			signals: func(s *consent.RiskSignals) *consent.RiskSignals {
				s.AccountTenure = consent.Date{Year: 2020, Month: 2, Day: 31}
				return s
			},
			want: []violation{{"riskSignals.accountTenure", 64, consent.ErrFormat}}},
		{name: "geolocation of unknown type", current: authorised(), change: raise,
			signals: func(s *consent.RiskSignals) *consent.RiskSignals {
				s.Geolocation = &consent.Geolocation{Latitude: -15.7, Longitude: -47.9, Type: "GPS"}
				return s
			},
			want: []violation{{"riskSignals.geolocation.type", 0, consent.ErrNotAllowed}}},
		{name: "no logged user", current: authorised(), change: raise, user: &consent.LoggedUser{},
			want: []violation{{"loggedUser.document.identification", 64, consent.ErrRequired}}},
		{name: "logged user with a CNPJ", current: authorised(), change: raise,
			user: &consent.LoggedUser{Document: consent.DocumentFor("11222333000181")},
			want: []violation{{"loggedUser.document.identification", 64, consent.ErrFormat}, {"loggedUser.document.rel", 64, consent.ErrNotAllowed}}},

		// Item 65.
		{name: "nothing changes", current: authorised(), change: consent.EditChange{},
			want: []violation{{"", 65, consent.ErrRequired}}},
		{name: "current expiry not at 23:59:59Z cannot be sent back", change: raise,
			current: authorised(func(c *consent.Consent) {
				c.ExpirationDateTime = &consent.DateTime{Time: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)}
			}),
			want: []violation{{"expirationDateTime", 65, consent.ErrFormat}}},

		// Item 66.
		{name: "maximum on a fixed consent", current: authorised(fixedConsent), change: raise,
			want: []violation{{maxPath, 66, consent.ErrNotAllowed}}},
		{name: "indefinite maximum on a fixed consent", current: authorised(fixedConsent),
			change: consent.EditChange{MaximumVariableAmount: consent.IndefiniteMaximum()},
			want:   []violation{{maxPath, 66, consent.ErrNotAllowed}}},
		{name: "maximum below the floor", current: authorised(),
			change: consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("49.99"))},
			want:   []violation{{maxPath, 66, consent.ErrOutOfRange}}},
		{name: "maximum zero", current: authorised(uncappedConsent),
			change: consent.EditChange{MaximumVariableAmount: consent.SetMaximum(0)},
			want:   []violation{{maxPath, 66, consent.ErrOutOfRange}}},
		{name: "expiry yesterday", current: authorised(),
			change: consent.EditChange{Expiration: consent.SetExpiration(consent.NewDate(2026, 3, 1))},
			want:   []violation{{"expirationDateTime", 66, consent.ErrOutOfRange}}},
		{name: "expiry today after 23:59:59Z has passed",
			// 2026-03-02 22:00 in Brasília is already 2026-03-03 01:00 UTC.
			now:     time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC),
			current: authorised(), change: consent.EditChange{Expiration: consent.SetExpiration(consent.NewDate(2026, 3, 2))},
			want: []violation{{"expirationDateTime", 66, consent.ErrOutOfRange}}},
		{name: "expiry not a calendar date", current: authorised(),
			change: consent.EditChange{Expiration: consent.SetExpiration(consent.Date{Year: 2027, Month: 2, Day: 29})},
			want:   []violation{{"expirationDateTime", 66, consent.ErrFormat}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			user := consent.NewLoggedUser("12345678901")
			if tt.user != nil {
				user = *tt.user
			}
			s := signals()
			if tt.signals != nil {
				s = tt.signals(s)
			}
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			var edit *consent.EditRequest
			var err error
			require.NotPanics(t, func() { edit, err = consent.NewEdit(tt.current, tt.change, user, s, now) })
			require.Nil(t, edit)
			requireViolations(t, err, tt.want...)
		})
	}
}

// A name-only edit needs neither user nor signals (§3.4, item 64).
func TestNewEditNameOnlyWithoutUserOrSignals(t *testing.T) {
	t.Parallel()
	edit, err := consent.NewEdit(authorised(), consent.EditChange{CreditorName: "Forma Academia S.A."},
		consent.LoggedUser{}, nil, testNow)
	require.NoError(t, err)
	b, err := json.Marshal(edit)
	require.NoError(t, err)
	require.JSONEq(t, `{"creditors":[{"name":"Forma Academia S.A."}]}`, string(b))
}

func TestNewRevocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		current *consent.Consent
		by      consent.By
		from    consent.From
		code    consent.RevocationCode
		detail  string
		want    []violation
	}{
		{name: "payer revokes at the ITP", current: authorised(), by: consent.ByUsuario, from: consent.FromIniciadora,
			code: consent.RevocationUsuario, detail: "Cancelado pelo pagador no app"},
		{name: "receiver revokes through the ITP", current: authorised(), by: consent.ByIniciadora, from: consent.FromIniciadora,
			code: consent.RevocationRecebedor, detail: "Fim do contrato"},
		{name: "fraud", current: authorised(), by: consent.ByIniciadora, from: consent.FromIniciadora,
			code: consent.RevocationNaoInformado, detail: strings.Repeat("x", 2048)},
		{name: "no consent", by: consent.ByUsuario, from: consent.FromIniciadora, code: consent.RevocationUsuario, detail: "x",
			want: []violation{{"", 61, consent.ErrRequired}}},
		{name: "awaiting authorisation", current: authorised(withStatus(consent.StatusAwaitingAuthorisation)),
			by: consent.ByUsuario, from: consent.FromIniciadora, code: consent.RevocationUsuario, detail: "x",
			want: []violation{{"status", 61, consent.ErrInvalidState}}},
		{name: "already revoked", current: authorised(withStatus(consent.StatusRevoked)),
			by: consent.ByUsuario, from: consent.FromIniciadora, code: consent.RevocationUsuario, detail: "x",
			want: []violation{{"status", 61, consent.ErrInvalidState}}},
		{name: "consumed", current: authorised(withStatus(consent.StatusConsumed)),
			by: consent.ByUsuario, from: consent.FromIniciadora, code: consent.RevocationUsuario, detail: "x",
			want: []violation{{"status", 61, consent.ErrInvalidState}}},
		{name: "empty fields", current: authorised(), want: []violation{
			{"revocation.revokedBy", 61, consent.ErrRequired}, {"revocation.revokedFrom", 61, consent.ErrRequired},
			{"revocation.reason.code", 61, consent.ErrRequired}, {"revocation.reason.detail", 61, consent.ErrRequired},
		}},
		{name: "values outside the enums", current: authorised(), by: "RECEBEDOR", from: "USUARIO", code: "REJEITADO_USUARIO", detail: "x",
			want: []violation{
				{"revocation.revokedBy", 61, consent.ErrNotAllowed}, {"revocation.revokedFrom", 61, consent.ErrNotAllowed},
				{"revocation.reason.code", 61, consent.ErrNotAllowed},
			}},
		{name: "detail too long", current: authorised(), by: consent.ByUsuario, from: consent.FromIniciadora,
			code: consent.RevocationUsuario, detail: strings.Repeat("ç", 2049),
			want: []violation{{"revocation.reason.detail", 61, consent.ErrOutOfRange}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rev, err := consent.NewRevocation(tt.current, tt.by, tt.from, tt.code, tt.detail)
			if tt.want != nil {
				require.Nil(t, rev)
				requireViolations(t, err, tt.want...)
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(rev)
			require.NoError(t, err)
			want, err := json.Marshal(map[string]any{"status": "REVOKED", "revocation": map[string]any{
				"revokedBy": tt.by, "revokedFrom": tt.from, "reason": map[string]any{"code": tt.code, "detail": tt.detail},
			}})
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(b))
		})
	}
}

func TestNewRejection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		current *consent.Consent
		by      consent.By
		from    consent.From
		code    consent.RejectionCode
		detail  string
		want    []violation
	}{
		{name: "payer gives up before authorising", current: authorised(withStatus(consent.StatusAwaitingAuthorisation)),
			by: consent.ByUsuario, from: consent.FromIniciadora, code: consent.RejectionRejeitadoUsuario, detail: "O usuário desistiu"},
		{name: "multiple approvers still pending", current: authorised(withStatus(consent.StatusPartiallyAccepted)),
			by: consent.ByIniciadora, from: consent.FromIniciadora, code: consent.RejectionNaoInformado, detail: "Cancelado"},
		{name: "every spec code is accepted", current: authorised(withStatus(consent.StatusAwaitingAuthorisation)),
			by: consent.ByIniciadora, from: consent.FromIniciadora, code: consent.RejectionFluxoNaoSuportadoProduto, detail: "x"},
		{name: "authorised", current: authorised(), by: consent.ByUsuario, from: consent.FromIniciadora,
			code: consent.RejectionRejeitadoUsuario, detail: "x", want: []violation{{"status", 62, consent.ErrInvalidState}}},
		{name: "already rejected", current: authorised(withStatus(consent.StatusRejected)), by: consent.ByUsuario,
			from: consent.FromIniciadora, code: consent.RejectionRejeitadoUsuario, detail: "x",
			want: []violation{{"status", 62, consent.ErrInvalidState}}},
		{name: "no consent", by: consent.ByUsuario, from: consent.FromIniciadora, code: consent.RejectionRejeitadoUsuario, detail: "x",
			want: []violation{{"", 62, consent.ErrRequired}}},
		{name: "revocation code", current: authorised(withStatus(consent.StatusAwaitingAuthorisation)), by: consent.ByUsuario,
			from: consent.FromIniciadora, code: "REVOGADO_USUARIO", detail: "x",
			want: []violation{{"rejection.reason.code", 62, consent.ErrNotAllowed}}},
		{name: "empty fields", current: authorised(withStatus(consent.StatusAwaitingAuthorisation)), want: []violation{
			{"rejection.rejectedBy", 62, consent.ErrRequired}, {"rejection.rejectedFrom", 62, consent.ErrRequired},
			{"rejection.reason.code", 62, consent.ErrRequired}, {"rejection.reason.detail", 62, consent.ErrRequired},
		}},
		{name: "detail too long", current: authorised(withStatus(consent.StatusAwaitingAuthorisation)), by: consent.ByUsuario,
			from: consent.FromIniciadora, code: consent.RejectionRejeitadoUsuario, detail: strings.Repeat("x", 2049),
			want: []violation{{"rejection.reason.detail", 62, consent.ErrOutOfRange}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rej, err := consent.NewRejection(tt.current, tt.by, tt.from, tt.code, tt.detail)
			if tt.want != nil {
				require.Nil(t, rej)
				requireViolations(t, err, tt.want...)
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(rej)
			require.NoError(t, err)
			want, err := json.Marshal(map[string]any{"status": "REJECTED", "rejection": map[string]any{
				"rejectedBy": tt.by, "rejectedFrom": tt.from, "reason": map[string]any{"code": tt.code, "detail": tt.detail},
			}})
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(b))
		})
	}
}
