package sqlite

import (
	"testing"

	"github.com/ofb-go/pixauto/pixauto/store/storetest"
)

// TestStreamLeavesNoGoroutine is not parallel on purpose (it counts
// goroutines). Each abandoned loop would leak a cursor and database/sql's
// goroutine watching its context.
func TestStreamLeavesNoGoroutine(t *testing.T) {
	s := openTest(t)
	storetest.CheckAbandonedStreams(t, s, func() int { return s.read.Stats().InUse })
}
