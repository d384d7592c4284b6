package routerdir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CheckOutDir says whether Save may write the router directory dir: it may
// not exist yet, be empty, or hold a router (MetaFile). Anything else is
// someone else's data, which Save must not replace.
func CheckOutDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory; refusing to replace it with a router: choose a new path", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, MetaFile)); err == nil {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return err
	}
	return fmt.Errorf("%s holds files but no %s, so it is not a router directory; refusing to replace it: choose a new or empty directory (or remove it yourself)", dir, MetaFile)
}

var errNoExchange = errors.New("atomic directory exchange not supported")

// tempPrefix is how Save's temp directories for dir are named (followed by
// os.MkdirTemp's random digits).
func tempPrefix(dir string) string { return "." + filepath.Base(dir) + ".tmp-" }

// makeTempDir checks dir, removes the temp directories a killed Save of dir
// left beside it, and makes a new one.
func makeTempDir(dir string) (string, error) {
	if err := CheckOutDir(dir); err != nil {
		return "", err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		// Only names os.MkdirTemp could have made from our pattern: the
		// prefix, then digits. Symlinks are not followed.
		digits, ok := strings.CutPrefix(e.Name(), tempPrefix(dir))
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || !e.IsDir() {
			continue
		}
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			return "", fmt.Errorf("removing a leftover of an interrupted save: %w", err)
		}
	}
	return os.MkdirTemp(parent, tempPrefix(dir)+"*")
}

// replaceDir moves the finished directory tmp to dir. An existing dir is
// swapped with tmp in one step where the system can, so dir always holds a
// whole router; the old one ends up at tmp, which the caller removes.
func replaceDir(tmp, dir string) error {
	// Checked again: training takes minutes, and something may have appeared.
	if err := CheckOutDir(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		// rename(2) never replaces a file or a non-empty directory that
		// appeared meanwhile: it fails instead.
		return os.Rename(tmp, dir)
	}
	err := exchange(tmp, dir)
	if !errors.Is(err, errNoExchange) {
		return err
	}
	// Two renames: a reader may briefly find no router. The old one goes to
	// a temp name, so a crash in between leaves it where the next Save
	// cleans up.
	old, err := os.MkdirTemp(filepath.Dir(dir), tempPrefix(dir)+"*")
	if err != nil {
		return err
	}
	if err := os.Remove(old); err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return errors.Join(err, os.Rename(old, dir))
	}
	return os.RemoveAll(old)
}
