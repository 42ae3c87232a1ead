package consent_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/spectest"
	"github.com/stretchr/testify/require"
)

var sentinels = []error{consent.ErrRequired, consent.ErrFormat, consent.ErrNotAllowed, consent.ErrConflict,
	consent.ErrOutOfRange, consent.ErrInvalidState, consent.ErrUnknownStatus}

// requireTyped asserts the error contract: a non-empty ValidationErrors
// whose every item names a rule and wraps a sentinel.
func requireTyped(t *testing.T, err error) {
	t.Helper()
	var ves consent.ValidationErrors
	require.True(t, errors.As(err, &ves), "%T: %v", err, err)
	require.NotEmpty(t, ves)
	for _, ve := range ves {
		require.NotEmpty(t, ve.Rule)
		known := false
		for _, s := range sentinels {
			known = known || errors.Is(ve, s)
		}
		require.True(t, known, "%v wraps no sentinel", ve)
	}
}

// goldenData returns the data objects of the golden create bodies.
func goldenData(f *testing.F, prefix string) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", prefix+"*", "request.json"))
	require.NoError(f, err)
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		var env struct{ Data json.RawMessage }
		require.NoError(f, json.Unmarshal(b, &env))
		out = append(out, env.Data)
	}
	return out
}

// FuzzValidateCreate decodes arbitrary JSON into a CreateRequest and
// validates it: no panic, typed errors only, and a request that passes is
// encodable and (when the specs are available) conforms to the 2.2.0 schema.
func FuzzValidateCreate(f *testing.F) {
	for _, d := range goldenData(f, "create-") {
		f.Add(d)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"creditors":null,"recurringConfiguration":{"automatic":null}}`,
		`{"recurringConfiguration":{"automatic":{"fixedAmount":"1.00","maximumVariableAmount":"2.00","minimumVariableAmount":"3.00"}}}`,
		`{"recurringConfiguration":{"automatic":{"firstPayment":{}},"sweeping":{"startDateTime":"2026-03-10T00:00:00Z"}}}`,
		`{"expirationDateTime":"2026-03-02T23:59:59Z","recurringConfiguration":{"automatic":{"referenceStartDate":"2026-03-02"}}}`,
		`{"creditors":[{},{}],"debtorAccount":{},"businessEntity":{},"journey":{}}`,
	} {
		f.Add([]byte(s))
	}
	_, haveSpec := spectest.SpecDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		var r consent.CreateRequest
		if json.Unmarshal(data, &r) != nil {
			return
		}
		err := consent.ValidateCreate(&r, testNow)
		if err != nil {
			requireTyped(t, err)
			return
		}
		body, err := json.Marshal(map[string]any{"data": &r})
		require.NoError(t, err, "a request that passes ValidateCreate must encode")
		if haveSpec {
			spectest.ValidateSchema(t, "2.2.0", "CreateRecurringConsent", body)
		}
	})
}

// FuzzDecodeConsent feeds arbitrary bytes to DecodeConsent: no panic, typed
// errors only, and an accepted consent re-encodes into bytes that decode to
// the same consent.
func FuzzDecodeConsent(f *testing.F) {
	f.Add([]byte(authorisedJSON))
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"status":"REJECTED"}`, `{"status":"SUSPENDED"}`,
		`{"recurringConfiguration":{"automatic":{"fixedAmount":1}}}`,
		`{"creationDateTime":"2026-03-01T09:50:00-03:00","creditors":{}}`,
		`{"recurringConfiguration":{"sweeping":{},"vrp":{}}}`,
		`{"updatedAtDateTime":"0001-01-01T00:00:00Z"}`,
		authorisedJSON[:len(authorisedJSON)/2],
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := consent.DecodeConsent(data)
		if err != nil {
			require.Nil(t, c)
			requireTyped(t, err)
			return
		}
		b, err := json.Marshal(c)
		require.NoError(t, err, "an accepted consent must encode")
		c2, err := consent.DecodeConsent(b)
		require.NoError(t, err, "the re-encoded consent must decode: %s", b)
		b2, err := json.Marshal(c2)
		require.NoError(t, err)
		require.Equal(t, string(b), string(b2))
	})
}
