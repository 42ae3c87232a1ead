package sqlite

import (
	"testing"

	"github.com/ofb-go/pixauto/pixauto/server"
	"github.com/ofb-go/pixauto/pixauto/server/servertest"
)

func TestServerStore(t *testing.T) {
	t.Parallel()
	servertest.Exercise(t, func(t *testing.T) server.Store { return openTest(t) })
}
