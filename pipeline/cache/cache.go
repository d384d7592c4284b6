// Package cache is the pipeline's content-addressed store: each stage output
// lives under a key hashed from everything it depends on (inputs,
// parameters, stage version), is written to a temp directory and renamed
// into place, and is reused as long as the key is the same.
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
	"time"

	"github.com/gofrs/flock"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// Store is a cache directory held under an exclusive lock, so two
// concurrent runs cannot interleave writes.
type Store struct {
	Dir  string
	lock *flock.Flock
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
	return &Store{Dir: dir, lock: l}, nil
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

// Has says whether a complete entry exists.
func (s *Store) Has(stage, key string) bool {
	_, err := os.Stat(filepath.Join(s.Path(stage, key), metaFile))
	return err == nil
}

// Entry is the record kept with every cache entry.
type Entry struct {
	Stage   string  `json:"stage"`
	Key     string  `json:"key"`
	Inputs  any     `json:"inputs"`
	Seconds float64 `json:"seconds"`
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
	b, err := json.MarshalIndent(Entry{Stage: stage, Key: key, Inputs: inputs, Seconds: time.Since(start).Seconds()}, "", "  ")
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
	if err := os.RemoveAll(final); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return syncDir(filepath.Dir(final))
}

// ReadJSON decodes a JSON file of an entry.
func (s *Store) ReadJSON(stage, key, name string, v any) error {
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
