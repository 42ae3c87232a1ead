package jobs

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pixauto.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	n := e.addNode(st, SQLite(st.DB()), 1)
	valid := Config{Initiator: n.in, Store: st, Driver: SQLite(st.DB())}
	for _, tc := range []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"no initiator", func(c *Config) { c.Initiator = nil }, "Config.Initiator is required"},
		{"no store", func(c *Config) { c.Store = nil }, "Config.Store is required"},
		{"no driver", func(c *Config) { c.Driver = Driver{} }, "Config.Driver is required"},
		{"negative workers", func(c *Config) { c.MaxWorkers = -1 }, "Config.MaxWorkers -1 is negative"},
		{"negative batch", func(c *Config) { c.Batch = -1 }, "Config.Batch -1 is negative"},
		{"bad queue name", func(c *Config) { c.Queue = "no spaces allowed" }, "queue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tc.modify(&cfg)
			_, err := New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "jobs: "), err.Error())
		})
	}
	r, err := New(valid)
	require.NoError(t, err)
	assert.Equal(t, DefaultQueue, r.cfg.Queue)
	assert.Equal(t, DefaultMaxWorkers, r.cfg.MaxWorkers)
	assert.Equal(t, pixauto.SyncBatch, r.cfg.Batch)
	assert.Len(t, r.periodicJobs(), 2, "sync and cleanup by default")
}

// The Initiator knows no database and no queue: only this package and the
// stores import them.
func TestInitiatorImportsNoDriver(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/ofb-go/pixauto/pixauto").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/ofb-go/pixauto/payments", "the listing works")
	for _, dep := range deps {
		assert.NotEqual(t, "database/sql", dep, "pixauto depends on database/sql") // database/sql/driver comes with uuid
		for _, banned := range []string{"github.com/riverqueue/", "github.com/jackc/", "modernc.org/", "github.com/ofb-go/pixauto/pixauto/jobs", "github.com/ofb-go/pixauto/pixauto/store/"} {
			assert.False(t, strings.HasPrefix(dep, banned), "pixauto depends on %s", dep)
		}
	}
}
