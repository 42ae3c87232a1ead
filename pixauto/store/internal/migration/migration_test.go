package migration

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("SortedByVersion", func(t *testing.T) {
		t.Parallel()
		fsys := fstest.MapFS{
			"m/0002_two.sql":   {Data: []byte("two")},
			"m/0001_one.sql":   {Data: []byte("one")},
			"m/0010_ten.txt":   {Data: []byte("ignored")},
			"other/0003_x.sql": {Data: []byte("ignored")},
		}
		ms, err := Load(fsys, "m")
		require.NoError(t, err)
		require.Equal(t, []Migration{
			{Version: 1, Name: "0001_one.sql", SQL: "one"},
			{Version: 2, Name: "0002_two.sql", SQL: "two"},
		}, ms)
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		ms, err := Load(fstest.MapFS{}, "m")
		require.NoError(t, err)
		require.Empty(t, ms)
	})

	for name, fsys := range map[string]fstest.MapFS{
		"Gap":        {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"Duplicate":  {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"NotFromOne": {"m/0002_b.sql": {}},
		"NoPrefix":   {"m/init.sql": {}},
		"BadNumber":  {"m/x1_init.sql": {}},
		"Zero":       {"m/0000_init.sql": {}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(fsys, "m")
			require.Error(t, err)
		})
	}
}
