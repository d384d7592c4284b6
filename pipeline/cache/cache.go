// Package cache is the pipeline's content-addressed store: each stage output
// lives under a key hashed from everything it depends on (inputs,
// parameters, stage version), is written to a temp directory and renamed
// into place, and is reused as long as the key is the same.
//
// The entry record (entry.json) holds the SHA-256 of every file of the
// entry, and an entry is only used after its files are checked against
// them (once per process): an entry edited or damaged after it was written
// (an accuracy changed in outcome.json, one bit of an encoder) is not used.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Store is a cache directory held under an exclusive lock, so two
// concurrent runs cannot interleave writes.
type Store struct {
	Dir  string
	lock *flock.Flock
	// progress hears about entries found damaged (nil: nobody).
	progress io.Writer

	mu sync.Mutex
	// checked memoizes Verify of the entries present, by stage/key, so a
	// run that consults an entry many times hashes its files once.
	checked map[string]error
	told    map[string]bool // damaged entries already reported on progress
}

// DefaultDir is the cache location relative to the working directory.
const DefaultDir = ".cache/routerdc"

// DefaultWait is how long a run waits for another run's lock on the cache.
const DefaultWait = 10 * time.Minute

// Open creates dir if needed and takes its lock, waiting up to wait for a
// concurrent run to finish (and saying so on progress).
func Open(dir string, wait time.Duration, progress io.Writer) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache %s: %w", dir, err)
	}
	l := flock.New(filepath.Join(dir, ".lock"))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", dir, err)
	}
	if !ok {
		if progress != nil {
			fmt.Fprintf(progress, "cache %s is in use by another run; waiting up to %s\n", dir, wait)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		ok, err = l.TryLockContext(ctx, 200*time.Millisecond)
		if err != nil || !ok {
			return nil, fmt.Errorf("cache %s is locked by another run (lock file %s); wait for it to finish", dir, l.Path())
		}
	}
	// Holding the lock, no other run is writing: temp entries left here
	// were left by a killed run.
	stale, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".tmp-*"))
	for _, t := range stale {
		os.RemoveAll(t)
	}
	return &Store{Dir: dir, lock: l, progress: progress, checked: map[string]error{}, told: map[string]bool{}}, nil
}

// Close releases the lock.
func (s *Store) Close() error { return s.lock.Unlock() }

// Key hashes parts (marshalled as JSON; maps marshal with sorted keys) into
// a hex SHA-256.
func Key(parts ...any) (string, error) {
	h := sha256.New()
	for _, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return "", fmt.Errorf("cache key: %w", err)
		}
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// metaFile marks a complete entry; it is written last, inside the temp dir.
const metaFile = "entry.json"

// Path is where an entry lives.
func (s *Store) Path(stage, key string) string {
	return filepath.Join(s.Dir, stage, key[:2], key)
}

// Has says whether a complete, intact entry exists. An entry whose files
// changed since it was written reads as absent, so the caller recomputes
// it, and the progress writer is told why.
func (s *Store) Has(stage, key string) bool {
	err := s.Verify(stage, key)
	var d *DamagedError
	if errors.As(err, &d) && s.progress != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.told[stage+"/"+key] {
			s.told[stage+"/"+key] = true
			fmt.Fprintf(s.progress, "%s; recomputing\n", d.What())
		}
	}
	return err == nil
}

// Verified returns the directory of an intact entry, for readers that open
// its files by path: ok is false when there is no entry, err (a
// *DamagedError naming the entry, the file and --force) when it changed
// since it was written.
func (s *Store) Verified(stage, key string) (dir string, ok bool, err error) {
	switch err := s.Verify(stage, key); {
	case err == nil:
		return s.Path(stage, key), true, nil
	case errors.Is(err, os.ErrNotExist):
		return "", false, nil
	default:
		return "", false, err
	}
}

// Verify checks an entry's files against the hashes in its record: nil
// when they match, an error wrapping os.ErrNotExist when there is no
// complete entry, a *DamagedError otherwise. The verdict on an entry is
// kept for the life of the Store (Put renews it).
func (s *Store) Verify(stage, key string) error {
	id := stage + "/" + key
	s.mu.Lock()
	defer s.mu.Unlock()
	if err, done := s.checked[id]; done {
		return err
	}
	err := s.verify(stage, key)
	if !errors.Is(err, os.ErrNotExist) {
		s.checked[id] = err
	}
	return err
}

func (s *Store) verify(stage, key string) error {
	dir := s.Path(stage, key)
	damaged := func(file, why string) error {
		return &DamagedError{Stage: stage, Key: key, Dir: dir, File: file, Why: why}
	}
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return damaged(metaFile, "unreadable entry record: "+err.Error())
	}
	if e.Files == nil {
		// Entries written before hashes were recorded cannot be checked:
		// they are recomputed like a damaged one.
		return damaged(metaFile, "written by an older version without content hashes")
	}
	got, err := HashDir(dir, metaFile)
	if err != nil {
		return damaged("", err.Error())
	}
	if file, why := Compare(e.Files, got); file != "" {
		return damaged(file, why)
	}
	return nil
}

// Compare checks the hashes of a directory's files (got) against the ones
// recorded when it was written (want): the first file, in sorted order,
// that is missing, changed or added, and which; "", "" when they match.
func Compare(want, got map[string]string) (file, why string) {
	for _, name := range sortedKeys(want) {
		h, ok := got[name]
		switch {
		case !ok:
			return name, "file missing"
		case h != want[name]:
			return name, "content changed since it was written"
		}
	}
	for _, name := range sortedKeys(got) {
		if _, ok := want[name]; !ok {
			return name, "file added since it was written"
		}
	}
	return "", ""
}

// DamagedError is an entry that no longer holds what was written.
type DamagedError struct {
	Stage, Key string
	Dir        string
	File       string // relative to Dir; "" when not one file
	Why        string
}

// What says which entry and file, and what is wrong.
func (e *DamagedError) What() string {
	s := fmt.Sprintf("cache entry %s/%s: %s", e.Stage, e.Key[:12], e.Why)
	if e.File != "" {
		s += fmt.Sprintf(" (file %s)", filepath.Join(e.Dir, e.File))
	}
	return s
}

func (e *DamagedError) Error() string {
	return e.What() + "; rerun with --force to recompute it (or delete " + e.Dir + ")"
}

// HashDir returns the hex SHA-256 of every file under dir but skip (a
// slash-separated path relative to dir; "": none), by slash-separated path
// relative to dir.
func HashDir(dir, skip string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == skip {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		h, err := data.FileSHA256(path)
		if err != nil {
			return err
		}
		out[rel] = h
		return nil
	})
	return out, err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Entry is the record kept with every cache entry.
type Entry struct {
	Stage   string  `json:"stage"`
	Key     string  `json:"key"`
	Inputs  any     `json:"inputs"`
	Seconds float64 `json:"seconds"`
	// Files are the SHA-256 of the entry's files (entry.json aside), by
	// slash-separated path in the entry. Never nil in an entry written by
	// this version.
	Files map[string]string `json:"files"`
}

// Put runs write into a fresh temp directory and, if it succeeds, moves the
// directory into place as the entry (replacing an old one). A failed or
// killed write leaves no entry behind.
func (s *Store) Put(stage, key string, inputs any, write func(dir string) error) error {
	final := s.Path(stage, key)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), ".tmp-"+key[:8]+"-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	if err := write(tmp); err != nil {
		return fmt.Errorf("%s stage: %w", stage, err)
	}
	seconds := time.Since(start).Seconds()
	files, err := HashDir(tmp, metaFile)
	if err != nil {
		return fmt.Errorf("%s stage: %w", stage, err)
	}
	b, err := json.MarshalIndent(Entry{Stage: stage, Key: key, Inputs: inputs, Seconds: seconds, Files: files}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(tmp, metaFile), b); err != nil { // fsynced
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it private
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.checked, stage+"/"+key)
	delete(s.told, stage+"/"+key)
	if err := os.RemoveAll(final); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return err
	}
	s.checked[stage+"/"+key] = nil // hashed from what was just written
	return nil
}

// ReadJSON decodes a JSON file of an intact entry (see Verify); a damaged
// entry is an error naming it and --force.
func (s *Store) ReadJSON(stage, key, name string, v any) error {
	if err := s.Verify(stage, key); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(s.Path(stage, key), name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cache entry %s/%s/%s: %w (delete it or rerun with --force)", stage, key[:12], name, err)
	}
	return nil
}

// syncDir flushes a directory's entries, so a rename survives an OS crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
