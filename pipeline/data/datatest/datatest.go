// Package datatest is the tests' and benchmarks' way to the released data.
// It lives apart from package data because it imports testing, which must
// not be linked into the routerdc binary; import it only from _test.go files.
package datatest

import (
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// RequireDir returns the data directory (data.TestDir): it skips when the
// data was never set up and fails when it is set up wrong, e.g. when
// ROUTERDC_DATA points at a directory without the released files.
func RequireDir(t testing.TB) string {
	t.Helper()
	dir, skip, err := data.TestDir()
	if err != nil {
		t.Fatal(err)
	}
	if skip != "" {
		t.Skip(skip)
	}
	return dir
}

// RequireBuiltin is the released split as a collection, with RequireDir's
// skip-or-fail rule.
func RequireBuiltin(t testing.TB) *data.Collection {
	t.Helper()
	col, err := data.Builtin(RequireDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return col
}
