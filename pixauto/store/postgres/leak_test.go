package postgres

import (
	"testing"

	"github.com/ofb-go/pixauto/pixauto/store/storetest"
)

// TestStreamLeavesNoGoroutine is not parallel on purpose (it counts
// goroutines). Each abandoned loop would leak a pool connection, and any
// goroutine watching the query's context.
func TestStreamLeavesNoGoroutine(t *testing.T) {
	s := openTest(t)
	storetest.CheckAbandonedStreams(t, s, func() int { return int(s.Pool().Stat().AcquiredConns()) })
}
