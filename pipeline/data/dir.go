package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvVar names the environment variable that points at the data directory.
const EnvVar = "ROUTERDC_DATA"

// Dir picks the data directory: the flag if given, else $ROUTERDC_DATA, else
// "data". When ./data does not exist it tries <module root>/data, so that
// tests, which run inside their package directory, find the repo's data.
func Dir(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(EnvVar); env != "" {
		return env
	}
	return projectData()
}

// EncodersEnvVar names the environment variable that points at the folder
// of pretrained encoders' files.
const EncodersEnvVar = "ROUTERDC_ENCODERS"

// EncodersDir picks the folder pretrained encoders' files are fetched into
// and read from: $ROUTERDC_ENCODERS, else the project's data/encoders. It
// is not under $ROUTERDC_DATA: that may be a shared, read-only copy of the
// released data, which the project must not write into.
func EncodersDir() string {
	if env := os.Getenv(EncodersEnvVar); env != "" {
		return env
	}
	return filepath.Join(projectData(), "encoders")
}

// projectData is ./data, else <module root>/data when run inside the module
// (tests run in their package directory).
func projectData() string {
	if _, err := os.Stat("data"); err == nil {
		return "data"
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return filepath.Join(d, "data")
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "data"
}

// CheckDir verifies that dir holds every released file with its expected
// SHA256. The error lists the missing and the wrong files and says how to fix.
func CheckDir(dir string) error {
	var missing, wrong []string
	for _, f := range Files() {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		sum, err := FileSHA256(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, f.Path)
		case err != nil:
			return fmt.Errorf("data dir %s: %w", dir, err)
		case sum != f.SHA256:
			wrong = append(wrong, fmt.Sprintf("%s (sha256 %s, want %s)", f.Path, sum, f.SHA256))
		}
	}
	if len(missing) == 0 && len(wrong) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data dir %s does not hold the released RouterDC data", dir)
	if len(missing) == len(Files()) {
		b.WriteString(": none of its files are there")
	} else {
		if len(missing) > 0 {
			fmt.Fprintf(&b, "; %d missing: %s", len(missing), strings.Join(missing, ", "))
		}
		if len(wrong) > 0 {
			fmt.Fprintf(&b, "; %d with the wrong content: %s", len(wrong), strings.Join(wrong, ", "))
		}
	}
	fmt.Fprintf(&b, ". To fix: run `just data` (or `routerdc data --data %s`) to download and verify them, "+
		"or set %s to a directory that already holds them", dir, EnvVar)
	return errors.New(b.String())
}

// HasAnyFile reports whether dir holds at least one of the released files,
// which tells "never downloaded" apart from "downloaded but damaged".
func HasAnyFile(dir string) bool {
	for _, f := range Files() {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil {
			return true
		}
	}
	return false
}

// TestDir is for tests that need the real data (datatest.RequireDir wraps it
// for testing.TB, so that this package does not link testing into the
// binary). It returns the data dir, or skip != "" when the data was simply
// never fetched (ROUTERDC_DATA unset and no file in the default dir), or err
// when the data is expected but broken (ROUTERDC_DATA set, or the default
// dir partly filled): that must fail.
func TestDir() (dir, skip string, err error) {
	dir = Dir("")
	_, explicit := os.LookupEnv(EnvVar)
	if err := CheckDir(dir); err != nil {
		if !explicit && !HasAnyFile(dir) {
			return "", fmt.Sprintf("no RouterDC data in %s and %s unset; run `just data` or set %s", dir, EnvVar, EnvVar), nil
		}
		return "", "", err
	}
	return dir, "", nil
}

// FileSHA256 is the hex SHA256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
