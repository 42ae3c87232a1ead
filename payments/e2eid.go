package payments

import (
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// E2EIDLen is the length of an endToEndId.
const E2EIDLen = 32

// E2EIDScheduledHour is the fixed UTC hour of the E2EID of a scheduled Pix
// Automático payment: the settlement date at 15:00 UTC, which covers the
// holder's 00:00–23:59 Brasília window.
const E2EIDScheduledHour = 15

const (
	e2eTimeLayout = "200601021504"
	suffixLen     = 11
	// suffixAlphabet is [0-9A-Za-z]: 62 symbols.
	suffixAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// rejectAbove is the largest multiple of 62 that fits in a byte; bytes
	// at or above it are discarded so that every symbol is equally likely.
	rejectAbove = 248
)

// E2EID is a parsed endToEndId: E + ISPB (8) + yyyyMMddHHmm (UTC) + an
// 11-character [a-zA-Z0-9] suffix, 32 characters in all.
//
// Every attempt of a payment, retries included, gets a new E2EID; one is
// never reused (checklist item 48). A [Generator] never hands out the same
// value twice.
type E2EID struct {
	ISPB   string    // 8 characters, [0-9A-Z] (2.0/2.1: digits only)
	Time   time.Time // UTC, minute precision
	Suffix string    // 11 characters, [a-zA-Z0-9]
}

// String returns the 32-character wire form, or "" for the zero E2EID.
func (e E2EID) String() string {
	if e.IsZero() {
		return ""
	}
	return "E" + e.ISPB + e.Time.UTC().Format(e2eTimeLayout) + e.Suffix
}

// IsZero reports whether e is the zero E2EID.
func (e E2EID) IsZero() bool { return e.ISPB == "" && e.Time.IsZero() && e.Suffix == "" }

// Date returns the UTC calendar date of the timestamp. For a scheduled
// payment it must equal the settlement date (checklist item 46).
func (e E2EID) Date() consent.Date { return consent.DateOf(e.Time, time.UTC) }

// IsScheduled reports whether the timestamp is at the fixed 15:00 UTC of a
// scheduled Pix Automático payment.
func (e E2EID) IsScheduled() bool {
	t := e.Time.UTC()
	return t.Hour() == E2EIDScheduledHour && t.Minute() == 0
}

// NumericISPB reports whether the ISPB is digits only, as 2.0.0 and 2.1.0
// require.
func (e E2EID) NumericISPB() bool { return allBytes(e.ISPB, isDigit) }

// ParseE2EID parses an endToEndId. It rejects bad shapes and timestamps that
// are not real instants, such as 30 February or hour 24, with a
// [*ParseError] that wraps [ErrInvalidE2EID]. Both numeric and alphanumeric
// (2.2.0) ISPBs are accepted; see [E2EID.NumericISPB].
func ParseE2EID(s string) (E2EID, error) {
	fail := func(rule string) (E2EID, error) {
		return E2EID{}, &ParseError{Kind: "endToEndId", Input: s, Rule: rule, err: ErrInvalidE2EID}
	}
	switch {
	case len(s) != E2EIDLen:
		return fail("must be 32 characters")
	case s[0] != 'E':
		return fail(`must start with "E"`)
	case !allBytes(s[1:9], isISPBByte):
		return fail("ISPB (characters 2–9) must be [0-9A-Z]{8}")
	case !allBytes(s[9:21], isDigit):
		return fail("timestamp (characters 10–21) must be 12 digits yyyyMMddHHmm")
	case !allBytes(s[21:], isAlnum):
		return fail("suffix (characters 22–32) must be [a-zA-Z0-9]{11}")
	}
	t, err := time.Parse(e2eTimeLayout, s[9:21])
	if err != nil {
		return fail(ruleE2EIDTime)
	}
	return E2EID{ISPB: s[1:9], Time: t, Suffix: s[21:]}, nil
}

// DefaultRemember is the number of recently issued E2EIDs a [Generator]
// keeps to guarantee it never returns the same one twice.
const DefaultRemember = 1 << 20

// maxRedraws bounds the redraws after a duplicate, so that a broken Rand
// (one that repeats itself) yields an error instead of a endless loop.
const maxRedraws = 64

// ErrRandomRepeats is returned by a [Generator] whose Rand keeps producing
// suffixes it already issued.
var ErrRandomRepeats = errors.New("payments: random source keeps repeating E2EID suffixes")

// Generator issues endToEndIds for one ITP. The suffix is drawn from Rand
// by rejection sampling, so that each of the 62 symbols is equally likely.
//
// A Generator never returns the same E2EID twice: it remembers the last
// Remember ids it issued (DefaultRemember if zero, about 50 MB at most) and
// draws again on a repeat. Beyond that horizon uniqueness rests on the 62^11
// (about 2^65) suffixes per minute. A new attempt, retries included, must
// always get a new id from the generator.
//
// A Generator is safe for concurrent use. It must not be copied after first
// use.
type Generator struct {
	// ISPB is the ITP's ISPB (8 characters [0-9A-Z]; use a numeric one for
	// 2.0/2.1 holders).
	ISPB string
	// Rand is the source of randomness; nil means crypto/rand.Reader. Reads
	// happen under the generator's lock.
	Rand io.Reader
	// Remember is how many recent ids are kept for duplicate detection;
	// zero means DefaultRemember.
	Remember int

	mu   sync.Mutex
	seen map[[23]byte]struct{}
	ring [][23]byte
	next int
	buf  [64]byte
	pos  int // next unread byte of buf
	end  int // end of the valid bytes of buf
}

// Scheduled returns a new E2EID for a payment scheduled to settle on date:
// E + ISPB + date + "1500" + suffix (checklist items 46 and 57).
func (g *Generator) Scheduled(date consent.Date) (E2EID, error) {
	if date.IsZero() {
		return E2EID{}, errors.New("payments: E2EID for a zero date")
	}
	t := time.Date(date.Year, date.Month, date.Day, E2EIDScheduledHour, 0, 0, 0, time.UTC)
	return g.issue(t)
}

// Immediate returns a new E2EID for an immediate payment submitted at now:
// the current UTC minute.
func (g *Generator) Immediate(now time.Time) (E2EID, error) {
	return g.issue(now.UTC().Truncate(time.Minute))
}

func (g *Generator) issue(t time.Time) (E2EID, error) {
	if !allBytes(g.ISPB, isISPBByte) || len(g.ISPB) != 8 {
		return E2EID{}, &ParseError{Kind: "ISPB", Input: g.ISPB, Rule: "must be [0-9A-Z]{8}", err: ErrInvalidE2EID}
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return E2EID{}, errors.New("payments: E2EID year out of range")
	}
	ts := t.Format(e2eTimeLayout)
	g.mu.Lock()
	defer g.mu.Unlock()
	for range maxRedraws {
		suffix, err := g.suffix()
		if err != nil {
			return E2EID{}, err
		}
		var key [23]byte
		copy(key[:12], ts)
		copy(key[12:], suffix[:])
		if g.remember(key) {
			return E2EID{ISPB: g.ISPB, Time: t, Suffix: string(suffix[:])}, nil
		}
	}
	return E2EID{}, ErrRandomRepeats
}

// suffix draws 11 symbols by rejection sampling. Unused random bytes are
// kept for the next call. The caller holds g.mu.
func (g *Generator) suffix() ([suffixLen]byte, error) {
	var out [suffixLen]byte
	for n := 0; n < suffixLen; {
		if g.pos == g.end {
			if err := g.fill(); err != nil {
				return out, err
			}
		}
		b := g.buf[g.pos]
		g.pos++
		if b >= rejectAbove {
			continue
		}
		out[n] = suffixAlphabet[b%62]
		n++
	}
	return out, nil
}

// fill reads more random bytes. The caller holds g.mu.
func (g *Generator) fill() error {
	r := g.Rand
	if r == nil {
		r = rand.Reader
	}
	n, err := r.Read(g.buf[:])
	if n > 0 {
		g.pos, g.end = 0, n
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return errors.Join(errors.New("payments: read random source"), err)
}

// remember records key and reports whether it was new. The caller holds
// g.mu.
func (g *Generator) remember(key [23]byte) bool {
	if _, dup := g.seen[key]; dup {
		return false
	}
	limit := g.Remember
	if limit <= 0 {
		limit = DefaultRemember
	}
	if g.seen == nil {
		g.seen = make(map[[23]byte]struct{})
	}
	if len(g.ring) < limit {
		g.ring = append(g.ring, key)
	} else {
		delete(g.seen, g.ring[g.next])
		g.ring[g.next] = key
		g.next = (g.next + 1) % limit
	}
	g.seen[key] = struct{}{}
	return true
}

func isDigit(b byte) bool    { return b >= '0' && b <= '9' }
func isUpper(b byte) bool    { return b >= 'A' && b <= 'Z' }
func isLower(b byte) bool    { return b >= 'a' && b <= 'z' }
func isISPBByte(b byte) bool { return isDigit(b) || isUpper(b) }
func isAlnum(b byte) bool    { return isDigit(b) || isUpper(b) || isLower(b) }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
