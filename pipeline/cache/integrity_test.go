package cache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// putOutcome writes a "evaluate" entry with a still-valid JSON file that a
// test can then edit.
func putOutcome(t *testing.T, s *Store) (key, file string) {
	t.Helper()
	key, _ = Key("outcome")
	if err := s.Put("evaluate", key, nil, func(dir string) error {
		if err := os.MkdirAll(filepath.Join(dir, "router"), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "router", "w.bin"), []byte{1, 2, 3}, 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "outcome.json"), []byte(`{"accuracy": 61.5}`), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	return key, filepath.Join(s.Path("evaluate", key), "outcome.json")
}

// reopen closes s and opens its directory again, as the next run does (a
// Store checks each entry once).
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	s.Close()
	s, err := Open(s.Dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestEditedEntryIsNotUsed: an entry whose file was changed after it was
// written, and is still valid JSON, must not be used: Has reports it
// absent (so it is recomputed) and ReadJSON refuses it.
func TestEditedEntryIsNotUsed(t *testing.T) {
	s, err := Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, file := putOutcome(t, s)
	if err := os.WriteFile(file, []byte(`{"accuracy": 99.5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	if s.Has("evaluate", key) {
		t.Error("Has reports an edited entry as usable")
	}
	var v struct{ Accuracy float64 }
	err = s.ReadJSON("evaluate", key, "outcome.json", &v)
	if err == nil {
		t.Fatalf("ReadJSON used the edited entry: accuracy %v", v.Accuracy)
	}
	if !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "outcome.json") {
		t.Errorf("error does not name the file and --force: %v", err)
	}
}

// TestFlippedBitInNestedFile: one bit of a file in a sub-directory.
func TestFlippedBitInNestedFile(t *testing.T) {
	s, err := Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := putOutcome(t, s)
	if err := os.WriteFile(filepath.Join(s.Path("evaluate", key), "router", "w.bin"), []byte{1, 2, 7}, 0o644); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	if s.Has("evaluate", key) {
		t.Error("Has reports an entry with a flipped bit as usable")
	}
}

// TestDamagedEntryIsRecomputed: Has says why it treats the entry as
// absent, Verified gives readers by path the same verdict, and a new Put
// replaces the entry and its verdict.
func TestDamagedEntryIsRecomputed(t *testing.T) {
	var progress strings.Builder
	s, err := Open(t.TempDir(), time.Second, &progress)
	if err != nil {
		t.Fatal(err)
	}
	key, file := putOutcome(t, s)
	if dir, ok, err := s.Verified("evaluate", key); !ok || err != nil || dir != s.Path("evaluate", key) {
		t.Fatalf("intact entry: %q %v %v", dir, ok, err)
	}
	if _, ok, err := s.Verified("evaluate", strings.Repeat("0", 64)); ok || err != nil {
		t.Errorf("missing entry: ok %v, err %v", ok, err)
	}

	// A second Store (a later run) checks the files again.
	s.Close()
	os.WriteFile(file, []byte(`{"accuracy": 99.5}`), 0o644)
	progress.Reset()
	if s, err = Open(s.Dir, time.Second, &progress); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Has("evaluate", key) || s.Has("evaluate", key) {
		t.Fatal("edited entry reported usable")
	}
	// Said once, however often the entry is asked for.
	want := "cache entry evaluate/" + key[:12] + ": content changed since it was written (file " + file + "); recomputing\n"
	if progress.String() != want {
		t.Errorf("progress:\n%q\nwant\n%q", progress.String(), want)
	}
	_, ok, err := s.Verified("evaluate", key)
	if d, isDamaged := err.(*DamagedError); ok || !isDamaged || d.File != "outcome.json" {
		t.Errorf("Verified of the edited entry: ok %v, err %v", ok, err)
	}
	putOutcome(t, s)
	if !s.Has("evaluate", key) {
		t.Error("the recomputed entry is not usable")
	}
}

// TestAddedFileAndOldEntry: a file that was not written with the entry, and
// an entry of the previous version (no hashes), are not used either.
func TestAddedFileAndOldEntry(t *testing.T) {
	var progress strings.Builder
	s, err := Open(t.TempDir(), time.Second, &progress)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, _ := putOutcome(t, s)
	os.WriteFile(filepath.Join(s.Path("evaluate", key), "router", "checkpoint-2.bin"), nil, 0o644)
	s.checked = map[string]error{} // as in a new run, with progress
	if s.Has("evaluate", key) || !strings.Contains(progress.String(), "file added") {
		t.Errorf("entry with an added file used; progress %q", progress.String())
	}

	old, _ := Key("old")
	dir := s.Path("train", old)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(dir, metaFile), []byte(`{"stage": "train", "key": "`+old+`", "inputs": null, "seconds": 1}`), 0o644)
	progress.Reset()
	if s.Has("train", old) || !strings.Contains(progress.String(), "older version") {
		t.Errorf("entry without hashes used; progress %q", progress.String())
	}
	var v any
	if err := s.ReadJSON("train", old, "report.json", &v); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("ReadJSON of an entry without hashes: %v", err)
	}
}
