package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// How time drives the automatic-payments state machine (see settlement.go
// for the transitions):
//
//   - With a ManualClock (the default), nothing happens on its own. Advance
//     and AdvanceTo move the clock and apply every transition due up to the
//     new time, in time order, each stamped with its own due time; RunDue
//     applies what is due at the clock's current time. All three return
//     once the webhooks they caused have been delivered (or given up).
//   - Every API call, and every authorization and token request naming a
//     recurring consent, first applies what is due at the clock's current
//     time, so the bank's answers always reflect "now" — also after a test
//     set the ManualClock directly.
//   - With any other Clock (SystemClock for a long-running program), a
//     background loop started by New applies what is due every
//     Config.TickInterval; Close stops it.

// ErrNotManualClock is returned by Advance and AdvanceTo when the bank's
// clock is not a *ManualClock.
var ErrNotManualClock = errors.New("sandbox: the bank's Clock is not a *ManualClock")

// Advance moves the bank's ManualClock forward by d, applies every
// transition due up to the new time in time order, and waits for the
// webhooks they caused. It returns the new time.
func (b *Bank) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return b.now(), fmt.Errorf("sandbox: Advance(%s): negative duration", d)
	}
	return b.advanceTo(func(now time.Time) time.Time { return now.Add(d) })
}

// AdvanceTo is Advance to the instant t, which must not be before the
// clock's current time.
func (b *Bank) AdvanceTo(t time.Time) (time.Time, error) {
	var err error
	now, aerr := b.advanceTo(func(now time.Time) time.Time {
		if t.Before(now) {
			err = fmt.Errorf("sandbox: AdvanceTo(%s): before the clock's time %s", t.Format(time.RFC3339), now.Format(time.RFC3339))
			return now
		}
		return t
	})
	if err != nil {
		return now, err
	}
	return now, aerr
}

func (b *Bank) advanceTo(target func(now time.Time) time.Time) (time.Time, error) {
	clock, ok := b.Clock.(*ManualClock)
	if !ok {
		return b.now(), ErrNotManualClock
	}
	clock.mu.Lock()
	clock.now = target(clock.now)
	now := clock.now
	clock.mu.Unlock()
	b.auto.begin().end()
	return now, b.FlushWebhooks(context.Background())
}

// RunDue applies every transition due at the clock's current time and
// waits, within ctx, for the webhooks they caused.
func (b *Bank) RunDue(ctx context.Context) error {
	b.auto.begin().end()
	return b.FlushWebhooks(ctx)
}

// startBackground starts the webhook sender and, unless the clock is a
// ManualClock, the loop that runs the state machine.
func (b *Bank) startBackground() {
	b.bg.Go(b.hooks.run)
	if _, manual := b.Clock.(*ManualClock); manual {
		return
	}
	b.bg.Go(func() {
		t := time.NewTicker(b.cfg.TickInterval)
		defer t.Stop()
		for {
			select {
			case <-b.closing:
				return
			case <-t.C:
				b.auto.begin().end()
			}
		}
	})
}
