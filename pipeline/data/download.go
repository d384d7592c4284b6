package data

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// UpstreamCommit pins the official RouterDC repository, so the downloaded
// files are exactly those the paper's numbers were computed on.
const UpstreamCommit = "0e63989c5bf4363330b8a4616386e3f7f116d9f8"

// UpstreamBaseURL is where Download fetches from by default; a file's URL is
// UpstreamBaseURL + "/" + its path under the data dir.
const UpstreamBaseURL = "https://raw.githubusercontent.com/shuhao02/RouterDC/" + UpstreamCommit + "/datasets"

// sha256sums is a copy of the SHA256SUMS shipped beside the released data:
// hashes, not data, so the binary can verify a download on its own.
//
//go:embed SHA256SUMS
var sha256sums string

// FileSum is one released file: its slash-separated path under the data dir
// and its expected SHA256 (lower-case hex).
type FileSum struct {
	Path   string
	SHA256 string
}

// Files lists the 18 released files in the order of SHA256SUMS.
func Files() []FileSum {
	var out []FileSum
	sc := bufio.NewScanner(strings.NewReader(sha256sums))
	for sc.Scan() {
		sum, path, ok := strings.Cut(strings.TrimSpace(sc.Text()), "  ")
		if !ok {
			continue
		}
		out = append(out, FileSum{Path: strings.TrimPrefix(path, "*"), SHA256: sum})
	}
	return out
}

// Retry settings; variables so tests need not wait.
var (
	downloadAttempts = 3
	retryDelay       = 2 * time.Second
	httpClient       = &http.Client{Timeout: 10 * time.Minute}
)

// Download fetches every file of Files() that is missing from dir or has the
// wrong hash, from baseURL ("" = UpstreamBaseURL). Each file is written to a
// temporary file beside its destination and renamed into place only after its
// SHA256 matches, so an interrupted or corrupted download never leaves a
// plausible-looking file behind. progress, if not nil, gets a bar per file.
//
// dir must be new, empty, or one an earlier download began (see
// checkDownloadDir): `routerdc data --data /tmp` must not spread the data
// over a directory of other things. Directories are created only once a
// file's bytes arrive, and nothing already there is deleted.
func Download(ctx context.Context, dir string, baseURL string, progress io.Writer) error {
	if err := checkDownloadDir(dir); err != nil {
		return err
	}
	if baseURL == "" {
		baseURL = UpstreamBaseURL
	}
	baseURL = strings.TrimRight(baseURL, "/")
	for _, f := range Files() {
		dest := filepath.Join(dir, filepath.FromSlash(f.Path))
		if sum, err := FileSHA256(dest); err == nil && sum == f.SHA256 {
			if progress != nil {
				fmt.Fprintf(progress, "%s: already present and verified\n", f.Path)
			}
			continue
		}
		url := baseURL + "/" + f.Path
		if err := downloadOne(ctx, url, dest, f, progress); err != nil {
			return fmt.Errorf("%w\nTo fix: check the network and rerun `routerdc data` (or `just data`); "+
				"without network, download %s by hand from %s into %s "+
				"(every file and its hash is listed in pipeline/data/SHA256SUMS), "+
				"or set %s to a directory that already holds the released files",
				err, f.Path, url, dest, EnvVar)
		}
	}
	return nil
}

// checkDownloadDir accepts a data dir to download into: one that does not
// exist yet, an empty one, or one that holds a released file or a folder of
// ours (split2_model7/, split2_model7_cluster/: an earlier download, maybe
// interrupted; encoders/: the pretrained encoders' files). Anything else
// holds other things, and is refused.
func checkDownloadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	if len(entries) == 0 || HasAnyFile(dir) {
		return nil
	}
	ours := map[string]bool{}
	for _, f := range Files() {
		top, _, _ := strings.Cut(f.Path, "/")
		ours[top] = true
	}
	// `routerdc data --encoders` may have run first.
	ours["encoders"] = true
	for _, e := range entries {
		if e.IsDir() && ours[e.Name()] {
			return nil
		}
	}
	return fmt.Errorf("data dir %s is not empty and holds none of the released RouterDC files (nor an earlier download's "+
		"split2_model7/): refusing to download into it. To fix: give an empty or new directory "+
		"(`routerdc data --data DIR`), or set %s to one", dir, EnvVar)
}

// errPermanent marks failures that retrying cannot fix.
type errPermanent struct{ error }

func (e errPermanent) Unwrap() error { return e.error }

func downloadOne(ctx context.Context, url, dest string, f FileSum, progress io.Writer) error {
	var err error
	for attempt := 1; attempt <= downloadAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("download %s from %s: %w", f.Path, url, ctx.Err())
			case <-time.After(retryDelay * time.Duration(attempt-1)):
			}
		}
		err = fetchVerified(ctx, url, dest, f, progress)
		if err == nil {
			return nil
		}
		var perm errPermanent
		if errors.As(err, &perm) || ctx.Err() != nil {
			return err
		}
		if progress != nil {
			fmt.Fprintf(progress, "%s: attempt %d of %d failed: %v\n", f.Path, attempt, downloadAttempts, err)
		}
	}
	return fmt.Errorf("%w (gave up after %d attempts)", err, downloadAttempts)
}

// fetchVerified does one GET into a temp file and renames it onto dest only
// if the hash matches. The temp file is removed on every failure.
func fetchVerified(ctx context.Context, url, dest string, f FileSum, progress io.Writer) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return errPermanent{fmt.Errorf("download %s: %w", f.Path, err)}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("download %s from %s: %w", f.Path, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("download %s from %s: HTTP %s", f.Path, url, resp.Status)
		// Server errors and rate limits pass; a 404 or 403 will not.
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return err
		}
		return errPermanent{err}
	}

	// Only now, with the bytes on their way: a failed request creates no
	// directory.
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return errPermanent{fmt.Errorf("download %s: %w", f.Path, err)}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return errPermanent{fmt.Errorf("download %s: %w", f.Path, err)}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	if progress != nil {
		bar := progressbar.NewOptions64(resp.ContentLength,
			progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription(f.Path),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
		)
		w = io.MultiWriter(w, bar)
		defer bar.Finish()
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("download %s from %s: %w", f.Path, url, err)
	}
	// CreateTemp makes the file private; the data is public and shared.
	if err := tmp.Chmod(0o644); err != nil {
		return errPermanent{fmt.Errorf("download %s: %w", f.Path, err)}
	}
	if err := tmp.Close(); err != nil {
		return errPermanent{fmt.Errorf("download %s: %w", f.Path, err)}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		// Not retried: the same URL serving the same wrong bytes is the
		// usual cause, and a retry would only hide it.
		return errPermanent{fmt.Errorf("download %s from %s: SHA256 mismatch: got %s, want %s; the file was not saved",
			f.Path, url, got, f.SHA256)}
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return errPermanent{fmt.Errorf("download %s: %w", f.Path, err)}
	}
	return nil
}
