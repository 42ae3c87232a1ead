package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change, read from a file named
// NNNN_description.sql.
type Migration struct {
	Version int    // NNNN
	Name    string // the file name
	SQL     string // the file's statements
}

// Load returns the migrations in dir of fsys in version order. Versions must
// start at 1 and have no gaps or duplicates, so that a database's version
// says exactly which files were applied.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("migration: list %s: %w", dir, err)
	}
	ms := make([]Migration, 0, len(names))
	for _, name := range names {
		m, err := load(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration: %s: version %d, want %d (versions start at 1, without gaps or duplicates)", m.Name, m.Version, i+1)
		}
	}
	return ms, nil
}

func load(fsys fs.FS, name string) (Migration, error) {
	base := path.Base(name)
	prefix, _, ok := strings.Cut(base, "_")
	if !ok {
		return Migration{}, fmt.Errorf("migration: %s: name must be NNNN_description.sql", base)
	}
	v, err := strconv.Atoi(prefix)
	if err != nil || v < 1 {
		return Migration{}, fmt.Errorf("migration: %s: name must start with a positive version number", base)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Migration{}, fmt.Errorf("migration: read %s: %w", base, err)
	}
	return Migration{Version: v, Name: base, SQL: string(b)}, nil
}
