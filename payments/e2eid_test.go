package payments_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/payments"
)

func TestParseE2EID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    payments.E2EID
		wantErr string
	}{
		{name: "spec example", in: "E9040088820241225150000123873170",
			want: payments.E2EID{ISPB: "90400888", Time: time.Date(2024, 12, 25, 15, 0, 0, 0, time.UTC), Suffix: "00123873170"}},
		{name: "alphanumeric ISPB (2.2.0)", in: "E" + "AB12CD34" + "202507231500" + "aZ9bY8cX7w0",
			want: payments.E2EID{ISPB: "AB12CD34", Time: time.Date(2025, 7, 23, 15, 0, 0, 0, time.UTC), Suffix: "aZ9bY8cX7w0"}},
		{name: "leap day", in: "E" + "12345678" + "202802292359" + "0000000000A",
			want: payments.E2EID{ISPB: "12345678", Time: time.Date(2028, 2, 29, 23, 59, 0, 0, time.UTC), Suffix: "0000000000A"}},
		{name: "empty", in: "", wantErr: "must be 32 characters"},
		{name: "31 characters", in: "E123456782025072315000000000000", wantErr: "must be 32 characters"},
		{name: "33 characters", in: "E12345678202507231500000000000000", wantErr: "must be 32 characters"},
		{name: "lower-case prefix", in: "e1234567820250723150000000000000", wantErr: `must start with "E"`},
		{name: "D prefix", in: "D1234567820250723150000000000000", wantErr: `must start with "E"`},
		{name: "lower-case ISPB", in: "Eab12cd3420250723150000000000000", wantErr: "ISPB"},
		{name: "ISPB with dash", in: "E1234-67820250723150000000000000", wantErr: "ISPB"},
		{name: "letter in timestamp", in: "E123456782025O723150000000000000", wantErr: "timestamp (characters"},
		{name: "30 February", in: "E1234567820250230150000000000000", wantErr: "not a real"},
		{name: "29 February of a common year", in: "E1234567820250229150000000000000", wantErr: "not a real"},
		{name: "31 April", in: "E1234567820250431150000000000000", wantErr: "not a real"},
		{name: "month 13", in: "E1234567820251301150000000000000", wantErr: "not a real"},
		{name: "month 00", in: "E1234567820250001150000000000000", wantErr: "not a real"},
		{name: "day 00", in: "E1234567820250700150000000000000", wantErr: "not a real"},
		{name: "hour 24", in: "E1234567820250723240000000000000", wantErr: "not a real"},
		{name: "minute 60", in: "E1234567820250723156000000000000", wantErr: "not a real"},
		{name: "suffix with dash", in: "E123456782025072315000000000-000", wantErr: "suffix"},
		{name: "suffix with non-ASCII", in: "E12345678202507231500000000000\u00e9", wantErr: "suffix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := payments.ParseE2EID(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, payments.ErrInvalidE2EID)
				var pe *payments.ParseError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, "endToEndId", pe.Kind)
				require.Contains(t, pe.Rule, tt.wantErr)
				require.True(t, strings.HasPrefix(err.Error(), "payments: "))
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want.ISPB, got.ISPB)
			require.True(t, tt.want.Time.Equal(got.Time))
			require.Equal(t, tt.want.Suffix, got.Suffix)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestE2EIDAccessors(t *testing.T) {
	t.Parallel()
	e, err := payments.ParseE2EID("E1234567820250723150000000000000")
	require.NoError(t, err)
	require.Equal(t, date(2025, 7, 23), e.Date())
	require.True(t, e.IsScheduled())
	require.True(t, e.NumericISPB())
	e2, err := payments.ParseE2EID("EAB12CD3420250723150100000000000")
	require.NoError(t, err)
	require.False(t, e2.IsScheduled())
	require.False(t, e2.NumericISPB())
	require.Empty(t, payments.E2EID{}.String())
}

func TestGeneratorScheduled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rand []byte
		d    [3]int
		want string
	}{
		{name: "first symbols", rand: seq(0, 32), d: [3]int{2025, 7, 23}, want: "E12345678" + "202507231500" + "0123456789A"},
		// 255, 248 and 250 are rejected; 124 and 186 are 0 mod 62, 247 is 61.
		{name: "rejected bytes are skipped", rand: append([]byte{255, 248, 0, 250, 61, 124, 186, 247}, seq(1, 24)...),
			d: [3]int{2026, 2, 28}, want: "E12345678" + "202602281500" + "0z00z123456"},
		// 62 → 0, 63 → 1, 123 → 61, 200 → 14.
		{name: "modulo 62", rand: append([]byte{62, 63, 123, 200}, seq(0, 28)...),
			d: [3]int{2028, 2, 29}, want: "E12345678" + "202802291500" + "01zE0123456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &payments.Generator{ISPB: itpISPB, Rand: bytes.NewReader(tt.rand)}
			e, err := g.Scheduled(date(tt.d[0], time.Month(tt.d[1]), tt.d[2]))
			require.NoError(t, err)
			require.Equal(t, tt.want, e.String())
			require.Len(t, e.String(), payments.E2EIDLen)
			back, err := payments.ParseE2EID(e.String())
			require.NoError(t, err)
			require.Equal(t, e, back)
		})
	}
}

// seq returns the bytes from, from+1, …, from+n-1.
func seq(from, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(from + i)
	}
	return b
}

func TestGeneratorImmediate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		now  time.Time
		want string // timestamp part
	}{
		{name: "Brasília evening is the next UTC day", now: brt(2025, 7, 23, 22, 30, 45), want: "202507240130"},
		{name: "seconds are dropped", now: time.Date(2025, 12, 31, 23, 59, 59, 999, time.UTC), want: "202512312359"},
		{name: "other zone", now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 5*3600)), want: "202412311900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := newGen().Immediate(tt.now)
			require.NoError(t, err)
			require.Equal(t, tt.want, e.String()[9:21])
			require.Equal(t, time.UTC, e.Time.Location())
		})
	}
}

// TestRejectionSamplingIsUnbiased feeds every byte value once: the 248
// accepted values map to each of the 62 symbols exactly 4 times.
func TestRejectionSamplingIsUnbiased(t *testing.T) {
	t.Parallel()
	stream := bytes.Repeat(seq(0, 256), 11) // 11 × 248 accepted bytes = 248 suffixes
	g := &payments.Generator{ISPB: itpISPB, Rand: bytes.NewReader(stream), Remember: 1}
	counts := map[rune]int{}
	base := date(2025, 1, 1)
	for i := range 248 {
		e, err := g.Scheduled(base.AddDays(i)) // distinct dates: no duplicate redraws
		require.NoError(t, err)
		for _, r := range e.Suffix {
			counts[r]++
		}
	}
	require.Len(t, counts, 62)
	for r, n := range counts {
		require.Equal(t, 44, n, "symbol %q", r) // 248 × 11 / 62
	}
}

// TestGeneratorNeverRepeats draws many ids within one fixed minute.
func TestGeneratorNeverRepeats(t *testing.T) {
	t.Parallel()
	const n = 100_000
	g := &payments.Generator{ISPB: itpISPB, Rand: chachaReader(7)}
	seen := make(map[string]bool, n)
	d := date(2025, 7, 23)
	for range n {
		e, err := g.Scheduled(d)
		require.NoError(t, err)
		s := e.String()
		require.False(t, seen[s], "duplicate %s", s)
		seen[s] = true
	}
}

func TestGeneratorConcurrent(t *testing.T) {
	t.Parallel()
	g := &payments.Generator{ISPB: itpISPB} // crypto/rand
	now := time.Date(2025, 7, 23, 12, 0, 0, 0, time.UTC)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				e, err := g.Immediate(now)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[e.String()] {
					t.Errorf("duplicate %s", e)
				}
				seen[e.String()] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, 16000)
}

// TestGeneratorDetectsRepeats uses sources that repeat themselves: the
// generator redraws instead of returning a duplicate, and gives up with an
// error rather than looping forever.
func TestGeneratorDetectsRepeats(t *testing.T) {
	t.Parallel()
	d := date(2025, 7, 23)
	t.Run("redraw after a duplicate", func(t *testing.T) {
		t.Parallel()
		a, b := seq(0, 11), seq(100, 11)
		g := &payments.Generator{ISPB: itpISPB, Rand: blocksRand(a, a, b)}
		e1, err := g.Scheduled(d)
		require.NoError(t, err)
		e2, err := g.Scheduled(d)
		require.NoError(t, err)
		require.NotEqual(t, e1, e2)
		require.Equal(t, "E12345678202507231500"+string(symbols(b[:11])), e2.String())
	})
	t.Run("same suffix on another minute is another id", func(t *testing.T) {
		t.Parallel()
		a := seq(0, 11)
		g := &payments.Generator{ISPB: itpISPB, Rand: blocksRand(a, a)}
		e1, err := g.Scheduled(d)
		require.NoError(t, err)
		e2, err := g.Scheduled(d.AddDays(1))
		require.NoError(t, err)
		require.Equal(t, e1.Suffix, e2.Suffix)
	})
	t.Run("stuck source", func(t *testing.T) {
		t.Parallel()
		g := &payments.Generator{ISPB: itpISPB, Rand: zeroRand{}}
		_, err := g.Scheduled(d)
		require.NoError(t, err)
		_, err = g.Scheduled(d)
		require.ErrorIs(t, err, payments.ErrRandomRepeats)
	})
	t.Run("bounded memory forgets the oldest", func(t *testing.T) {
		t.Parallel()
		a, b := seq(0, 11), seq(100, 11)
		g := &payments.Generator{ISPB: itpISPB, Rand: blocksRand(a, b, a), Remember: 1}
		e1, err := g.Scheduled(d)
		require.NoError(t, err)
		_, err = g.Scheduled(d)
		require.NoError(t, err)
		e3, err := g.Scheduled(d)
		require.NoError(t, err)
		require.Equal(t, e1, e3, "beyond Remember ids, uniqueness is only probabilistic")
	})
}

// symbols maps accepted bytes (< 248) to suffix symbols.
func symbols(b []byte) []byte {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := make([]byte, len(b))
	for i, v := range b {
		out[i] = alphabet[v%62]
	}
	return out
}

func TestGeneratorErrors(t *testing.T) {
	t.Parallel()
	readErr := errors.New("entropy exhausted")
	tests := []struct {
		name string
		g    *payments.Generator
		call func(*payments.Generator) error
		is   error
	}{
		{name: "empty ISPB", g: &payments.Generator{}, is: payments.ErrInvalidE2EID,
			call: func(g *payments.Generator) error { _, err := g.Scheduled(date(2025, 7, 23)); return err }},
		{name: "lower-case ISPB", g: &payments.Generator{ISPB: "abcdefgh"}, is: payments.ErrInvalidE2EID,
			call: func(g *payments.Generator) error { _, err := g.Scheduled(date(2025, 7, 23)); return err }},
		{name: "7-character ISPB", g: &payments.Generator{ISPB: "1234567"}, is: payments.ErrInvalidE2EID,
			call: func(g *payments.Generator) error { _, err := g.Immediate(time.Now()); return err }},
		{name: "zero date", g: newGen(),
			call: func(g *payments.Generator) error { _, err := g.Scheduled(date(0, 0, 0).AddDays(0)); return err }},
		{name: "year 10000", g: newGen(),
			call: func(g *payments.Generator) error { _, err := g.Scheduled(date(10000, 1, 1)); return err }},
		{name: "failing source", g: &payments.Generator{ISPB: itpISPB, Rand: errReader{readErr}}, is: readErr,
			call: func(g *payments.Generator) error { _, err := g.Scheduled(date(2025, 7, 23)); return err }},
		{name: "short source", g: &payments.Generator{ISPB: itpISPB, Rand: bytes.NewReader(seq(0, 5))},
			call: func(g *payments.Generator) error { _, err := g.Scheduled(date(2025, 7, 23)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(tt.g)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "payments: "), err.Error())
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// chachaReader is a deterministic pseudo-random source for tests.
func chachaReader(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}
