package cache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	a, _ := Key("train", map[string]any{"b": 1, "a": "x"})
	b, _ := Key("train", map[string]any{"a": "x", "b": 1})
	c, _ := Key("train", map[string]any{"a": "x", "b": 2})
	if a != b || a == c || len(a) != 64 {
		t.Errorf("keys %s %s %s", a, b, c)
	}
}

func TestPutHasRead(t *testing.T) {
	s, err := Open(t.TempDir(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, _ := Key("x")
	if s.Has("train", key) {
		t.Fatal("empty cache has an entry")
	}
	// A failing write leaves nothing behind.
	if err := s.Put("train", key, nil, func(dir string) error {
		os.WriteFile(filepath.Join(dir, "half.json"), []byte("{"), 0o644)
		return errors.New("killed")
	}); err == nil {
		t.Fatal("failed write reported success")
	}
	if s.Has("train", key) {
		t.Fatal("a failed write left an entry")
	}
	if left, _ := filepath.Glob(filepath.Join(s.Dir, "train", "*", ".tmp-*")); len(left) != 0 {
		t.Errorf("temp dirs left: %v", left)
	}
	if err := s.Put("train", key, map[string]int{"n": 1}, func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "v.json"), []byte(`{"v": 3}`), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	var v struct{ V int }
	if !s.Has("train", key) || s.ReadJSON("train", key, "v.json", &v) != nil || v.V != 3 {
		t.Errorf("entry not readable: %+v", v)
	}
	os.WriteFile(filepath.Join(s.Path("train", key), "bad.json"), []byte("{"), 0o644)
	if err := s.ReadJSON("train", key, "bad.json", &v); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("corrupt entry error: %v", err)
	}
}

func TestOpenRemovesTempEntriesOfAKilledRun(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "train", "ab", ".tmp-abcdef12-99")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("temp entry of a killed run survived Open: %v", err)
	}
}

func TestLockExcludesSecondRun(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, 300*time.Millisecond, nil); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("second open while locked: %v", err)
	}
	s.Close()
	s2, err := Open(dir, time.Second, nil)
	if err != nil {
		t.Fatalf("open after release: %v", err)
	}
	s2.Close()
}
