package postgres

import (
	"testing"

	"github.com/ofb-go/pixauto/pixauto/server"
	"github.com/ofb-go/pixauto/pixauto/server/servertest"
)

func TestServerStore(t *testing.T) {
	t.Parallel()
	testURL(t)
	servertest.Exercise(t, func(t *testing.T) server.Store { return openTest(t) })
}
