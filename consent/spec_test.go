package consent_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/spectest"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden request bodies in testdata/")

// wrap returns {"data": v}, the body of every request.
func wrap(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(map[string]any{"data": v}, "", "  ")
	require.NoError(t, err)
	return append(b, '\n')
}

// golden compares body with testdata/<name>/request.json (or rewrites it
// with -update).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	path := filepath.Join("testdata", name, "request.json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, body, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./consent -run TestSpecConformance -update to create it")
	require.JSONEq(t, string(want), string(body))
}

func mustEdit(t *testing.T, current *consent.Consent, change consent.EditChange) *consent.EditRequest {
	t.Helper()
	e, err := consent.NewEdit(current, change, consent.NewLoggedUser("12345678901"), signals(), testNow)
	require.NoError(t, err)
	return e
}

type bodyKind int

const (
	createBody bodyKind = iota
	editBody
	patchBody // revocation or rejection
)

// Every body the package builds validates against the official schema of
// 2.2.0 and, where the shape is the same, 2.1.0.
func TestSpecConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		kind     bodyKind
		build    func(t *testing.T) any
		only2_2  bool // uses 2.2.0-only syntax (alphanumeric CNPJ)
		versions []string
	}{
		{name: "create-variable-first-payment", build: func(*testing.T) any { return validRequest() }},
		{name: "create-fixed-first-payment", build: func(*testing.T) any {
			return consent.NewCreateRequest(consent.NewLoggedUser("12345678901"),
				consent.NewCreditor("12345678000195", "Academia Forma Ltda"),
				consent.NewAutomatic("CTR2026002", consent.IntervalSemanal, consent.NewDate(2026, 3, 9), debtor(),
					consent.Fixed(consent.MustAmount("49.90")),
					consent.WithFirstPayment(consent.NewDate(2026, 3, 2), consent.MustAmount("49.90"), creditorAccount(), "")),
				consent.WithExpiration(consent.NewDate(2026, 12, 31)))
		}},
		{name: "create-variable-capped", build: func(*testing.T) any {
			return consent.NewCreateRequest(consent.NewLoggedUser("12345678901"),
				consent.NewCreditor("12345678000195", "Energia Sol S.A."),
				consent.NewAutomatic("UC998877", consent.IntervalMensal, consent.NewDate(2026, 4, 1), debtor(),
					consent.Variable(consent.MustAmount("800.00"), 0), consent.WithRetries()),
				consent.WithDebtorAccount(consent.Account{ISPB: "87654321", Number: "5566778899", AccountType: consent.AccountTRAN}))
		}},
		{name: "create-uncapped-minimal", build: func(*testing.T) any {
			return consent.NewCreateRequest(consent.NewLoggedUser("12345678901"),
				consent.NewCreditor("12345678000195", "Seguros Tranquilo Ltda"),
				consent.NewAutomatic("APOLICE1", consent.IntervalAnual, consent.NewDate(2026, 3, 2), debtor(), consent.Variable(0, 0)))
		}},
		{name: "create-company-user", build: func(*testing.T) any {
			return consent.NewCreateRequest(consent.NewLoggedUser("12345678901"),
				consent.NewCreditor("12345678000195", "Software Nuvem Ltda"),
				consent.NewAutomatic("LIC2026", consent.IntervalTrimestral, consent.NewDate(2026, 3, 15),
					consent.ContractDebtor{Name: "Padaria Pão Quente ME", Document: consent.DocumentFor("11222333000181")},
					consent.Variable(consent.MustAmount("3000.00"), consent.MustAmount("1000.00")), consent.WithRetries()),
				consent.WithBusinessEntity("11222333000181"),
				consent.WithExpiration(consent.NewDate(2028, 3, 14)),
				consent.WithAdditionalInformation("Licença trimestral"))
		}},
		{name: "create-alphanumeric-cnpj", only2_2: true, build: func(*testing.T) any {
			return consent.NewCreateRequest(consent.NewLoggedUser("12345678901"),
				consent.NewCreditor("12ABC34501DE35", "Clube Alfa"),
				consent.NewAutomatic("CLUBE1", consent.IntervalSemestral, consent.NewDate(2026, 3, 2), debtor(),
					consent.Fixed(consent.MustAmount("600.00"))),
				consent.WithDebtorAccount(consent.Account{ISPB: "AB12CD34", Issuer: "1", Number: "1", AccountType: consent.AccountSVGS}))
		}},
		{name: "edit-raise-maximum", kind: editBody, build: func(t *testing.T) any {
			return mustEdit(t, authorised(), consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))})
		}},
		{name: "edit-indefinite-maximum", kind: editBody, build: func(t *testing.T) any {
			return mustEdit(t, authorised(), consent.EditChange{MaximumVariableAmount: consent.IndefiniteMaximum()})
		}},
		{name: "edit-extend-expiry", kind: editBody, build: func(t *testing.T) any {
			return mustEdit(t, authorised(companyUser), consent.EditChange{Expiration: consent.SetExpiration(consent.NewDate(2028, 3, 1))})
		}},
		{name: "edit-indefinite-expiry-fixed", kind: editBody, build: func(t *testing.T) any {
			return mustEdit(t, authorised(fixedConsent), consent.EditChange{Expiration: consent.IndefiniteExpiration()})
		}},
		{name: "edit-rename-only", kind: editBody, build: func(t *testing.T) any {
			return mustEdit(t, authorised(), consent.EditChange{CreditorName: "Forma Academia S.A."})
		}},
		{name: "revoke-by-payer", kind: patchBody, build: func(t *testing.T) any {
			r, err := consent.NewRevocation(authorised(), consent.ByUsuario, consent.FromIniciadora, consent.RevocationUsuario,
				"O usuário pagador revogou a recorrência do consentimento")
			require.NoError(t, err)
			return r
		}},
		{name: "revoke-by-receiver", kind: patchBody, build: func(t *testing.T) any {
			r, err := consent.NewRevocation(authorised(), consent.ByIniciadora, consent.FromIniciadora, consent.RevocationRecebedor,
				"O usuário recebedor revogou a recorrência do consentimento")
			require.NoError(t, err)
			return r
		}},
		{name: "reject-before-authorisation", kind: patchBody, build: func(t *testing.T) any {
			r, err := consent.NewRejection(authorised(withStatus(consent.StatusAwaitingAuthorisation)), consent.ByUsuario,
				consent.FromIniciadora, consent.RejectionRejeitadoUsuario, "O usuário rejeitou a autorização do consentimento")
			require.NoError(t, err)
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := tt.build(t)
			body := wrap(t, v)
			golden(t, tt.name, body)
			versions := []string{"2.2.0", "2.1.0"}
			if tt.only2_2 {
				versions = versions[:1]
			}
			for _, version := range versions {
				switch tt.kind {
				case createBody:
					spectest.ValidateSchema(t, version, "CreateRecurringConsent", body)
				case patchBody:
					spectest.ValidateSchema(t, version, "PatchRecurringConsent", body)
				case editBody:
					requireValidEdit(t, version, body)
				}
			}
			if tt.only2_2 {
				require.Error(t, spectest.CheckSchema(t, "2.1.0", "CreateRecurringConsent", body), "2.1.0 has numeric CNPJs only")
			}
			if tt.kind == createBody {
				// The golden body reads back into a request that still validates.
				var back struct{ Data consent.CreateRequest }
				require.NoError(t, json.Unmarshal(body, &back))
				require.Equal(t, v, &back.Data)
				require.NoError(t, consent.ValidateCreate(&back.Data, testNow))
			}
		})
	}
}

// requireValidEdit validates an edit. PatchRecurringConsent's oneOf cannot
// accept any edit: its ConsentRevocation and ConsentRejection branches have
// no required property, so an edit matches all three branches. The edit is
// therefore validated against ConsentEdition, and the oneOf is checked to
// fail for that reason only.
func requireValidEdit(t *testing.T, version string, body []byte) {
	t.Helper()
	var env struct{ Data json.RawMessage }
	require.NoError(t, json.Unmarshal(body, &env))
	spectest.ValidateSchema(t, version, "ConsentEdition", env.Data)

	err := spectest.CheckSchema(t, version, "PatchRecurringConsent", body)
	require.ErrorIs(t, err, openapi3.ErrOneOfConflict, "spec defect: an edit matches every oneOf branch")
	var se *spectest.Error
	require.True(t, errors.As(err, &se))
	require.Len(t, se.Issues, 1, "%v", err)
	require.True(t, se.HasIssue("/data", "oneOf"))
}

// Rules both the spec and ValidateCreate enforce: each mutation is refused
// by both, so the client-side check is at least as strict as the schema.
func TestValidateCreateAgreesWithSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mutate   func(r *consent.CreateRequest)
		specPath string
		field    string
	}{
		{name: "contract id", mutate: func(r *consent.CreateRequest) { automatic(r).ContractID = "CTR-1" },
			specPath: "/data/recurringConfiguration/automatic/contractId", field: auto + "contractId"},
		{name: "interval", mutate: func(r *consent.CreateRequest) { automatic(r).Interval = "DIARIO" },
			specPath: "/data/recurringConfiguration/automatic/interval", field: auto + "interval"},
		{name: "logged user", mutate: func(r *consent.CreateRequest) { r.LoggedUser.Document.Identification = "123" },
			specPath: "/data/loggedUser/document/identification", field: "loggedUser.document.identification"},
		{name: "creditor name", mutate: func(r *consent.CreateRequest) { r.Creditors[0].Name = "Loja #1" },
			specPath: "/data/creditors/0/name", field: "creditors[0].name"},
		{name: "creditor name length", mutate: func(r *consent.CreateRequest) { r.Creditors[0].Name = strings.Repeat("a", 121) },
			specPath: "/data/creditors/0/name", field: "creditors[0].name"},
		{name: "debtor account ISPB", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.ISPB = "1234567" },
			specPath: "/data/debtorAccount/ispb", field: "debtorAccount.ispb"},
		{name: "debtor account type", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.AccountType = "SLRY" },
			specPath: "/data/debtorAccount/accountType", field: "debtorAccount.accountType"},
		{name: "additional information", mutate: func(r *consent.CreateRequest) { r.AdditionalInformation = strings.Repeat("a", 141) },
			specPath: "/data/additionalInformation", field: "additionalInformation"},
		{name: "first payment currency", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Currency = "brl" },
			specPath: "/data/recurringConfiguration/automatic/firstPayment/currency", field: auto + "firstPayment.currency"},
		{name: "expiry not at 23:59:59Z (prose rule, the schema accepts it)", mutate: func(r *consent.CreateRequest) {
			r.ExpirationDateTime = &consent.DateTime{Time: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)}
		}, field: "expirationDateTime"},
		{name: "contract debtor document", mutate: func(r *consent.CreateRequest) {
			automatic(r).ContractDebtor.Document.Rel = "RG"
		}, specPath: "/data/recurringConfiguration/automatic/contractDebtor/document/rel", field: auto + "contractDebtor.document.rel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest()
			tt.mutate(r)
			var ves consent.ValidationErrors
			require.ErrorAs(t, consent.ValidateCreate(r, testNow), &ves)
			require.NotNil(t, ves.Field(tt.field), "ValidateCreate: %v", ves)
			if tt.specPath == "" {
				return // a rule of the spec's prose, not of its schema
			}
			err := spectest.CheckSchema(t, "2.2.0", "CreateRecurringConsent", wrap(t, r))
			var se *spectest.Error
			require.True(t, errors.As(err, &se), "the spec accepts it: %v", err)
			require.True(t, se.HasIssue(tt.specPath, ""), "want a spec issue at %s in %v", tt.specPath, err)
		})
	}
}
