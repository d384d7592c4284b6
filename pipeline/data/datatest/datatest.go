// Package datatest is the tests' and benchmarks' way to the released data,
// to the CSV files the pipeline writes and to JSON fixtures.
// It lives apart from package data because it imports testing, which must
// not be linked into the routerdc binary; import it only from _test.go files.
package datatest

import (
	"encoding/csv"
	"encoding/json"
	"os"
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

// ReadCSV reads a whole CSV file the pipeline wrote (a table, a sweep), or
// fails the test.
func ReadCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// ReadJSON decodes a whole JSON file (a test fixture) into a T, or fails
// the test.
func ReadJSON[T any](t testing.TB, path string) T {
	t.Helper()
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
