package sandbox

import (
	"sync"
	"time"
)

// A Clock tells the bank what time it is. Every expiry, lifetime and
// freshness check of the bank reads it, so a test can move time instead of
// sleeping. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// ManualClock is a Clock that only moves when told to. The zero value reads
// as the zero time; use NewClock. It is safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a ManualClock reading t.
func NewClock(t time.Time) *ManualClock {
	return &ManualClock{now: t}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forwards or backwards.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d (which may be negative) and returns the new
// time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// SystemClock is the wall clock. Use it when the bank serves a long-running
// program whose client reads real time; tests usually want a ManualClock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
