package data

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sourceDir finds a verified copy of the released files to serve: the
// ROUTERDC_DATA dir (which must then be complete), the workspace's shared
// copy, or the repo's data dir.
func sourceDir(t *testing.T) string {
	t.Helper()
	if env := os.Getenv(EnvVar); env != "" {
		if err := CheckDir(env); err != nil {
			t.Fatal(err)
		}
		return env
	}
	if shared := filepath.Join("..", "..", "..", "shared", "routerdc-data"); CheckDir(shared) == nil {
		return shared
	}
	return realDir(t)
}

// fileServer serves src and counts requests per path; fail, if set, can
// replace a response.
type fileServer struct {
	src  string
	mu   sync.Mutex
	hits map[string]int
	fail func(w http.ResponseWriter, path string, hit int) bool
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/datasets/")
	s.mu.Lock()
	s.hits[path]++
	hit := s.hits[path]
	s.mu.Unlock()
	if s.fail != nil && s.fail(w, path, hit) {
		return
	}
	http.ServeFile(w, r, filepath.Join(s.src, filepath.FromSlash(path)))
}

func (s *fileServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.hits {
		n += h
	}
	return n
}

func newServer(t *testing.T) (*fileServer, string) {
	fs := &fileServer{src: sourceDir(t), hits: map[string]int{}}
	ts := httptest.NewServer(fs)
	t.Cleanup(ts.Close)
	return fs, ts.URL + "/datasets"
}

func fastRetries(t *testing.T) {
	old := retryDelay
	retryDelay = 0
	t.Cleanup(func() { retryDelay = old })
}

// leftovers lists temp files Download left in dir.
func leftovers(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".part-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestDownloadThenSkip(t *testing.T) {
	srv, url := newServer(t)
	dir := filepath.Join(t.TempDir(), "data")
	var progress bytes.Buffer
	if err := Download(context.Background(), dir, url, &progress); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(dir); err != nil {
		t.Fatalf("after Download: %v", err)
	}
	if n := srv.total(); n != 18 {
		t.Errorf("first run made %d requests, want 18", n)
	}
	if !strings.Contains(progress.String(), "split2_model7/mmlu_test.json") {
		t.Errorf("progress output does not name the files:\n%s", progress.String())
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temp files left behind: %v", l)
	}

	// Second run: everything verified, nothing fetched.
	progress.Reset()
	if err := Download(context.Background(), dir, url, &progress); err != nil {
		t.Fatal(err)
	}
	if n := srv.total(); n != 18 {
		t.Errorf("second run made %d more requests, want 0", n-18)
	}
	if got := strings.Count(progress.String(), "already present"); got != 18 {
		t.Errorf("second run reported %d files already present, want 18", got)
	}
}

func TestDownloadReplacesWrongFile(t *testing.T) {
	srv, url := newServer(t)
	dir := t.TempDir()
	if err := Download(context.Background(), dir, url, nil); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "split2_model7", "ceval.json")
	if err := os.WriteFile(bad, []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Download(context.Background(), dir, url, nil); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(dir); err != nil {
		t.Fatal(err)
	}
	if n := srv.hits["split2_model7/ceval.json"]; n != 2 {
		t.Errorf("ceval.json fetched %d times, want 2", n)
	}
	if n := srv.total(); n != 19 {
		t.Errorf("%d requests in all, want 18 + 1", n)
	}
}

func TestDownloadCorruptedFile(t *testing.T) {
	srv, url := newServer(t)
	const corrupt = "split2_model7/MATH_prealgebra.json"
	srv.fail = func(w http.ResponseWriter, path string, _ int) bool {
		if path != corrupt {
			return false
		}
		b, err := os.ReadFile(filepath.Join(srv.src, filepath.FromSlash(path)))
		if err != nil {
			t.Error(err)
		}
		b[len(b)/2] ^= 1 // one flipped bit, same length
		w.Write(b)
		return true
	}
	dir := t.TempDir()
	err := Download(context.Background(), dir, url, nil)
	if err == nil {
		t.Fatal("Download accepted a corrupted file")
	}
	t.Log(err)
	for _, want := range []string{corrupt, "SHA256 mismatch", "not saved", url + "/" + corrupt, "by hand", EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, serr := os.Stat(filepath.Join(dir, filepath.FromSlash(corrupt))); !os.IsNotExist(serr) {
		t.Errorf("the corrupted file was saved (stat: %v)", serr)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temp files left behind: %v", l)
	}
	if n := srv.hits[corrupt]; n != 1 {
		t.Errorf("a hash mismatch was retried: %d requests", n)
	}
}

func TestDownloadRetriesTransientErrors(t *testing.T) {
	fastRetries(t)
	srv, url := newServer(t)
	srv.fail = func(w http.ResponseWriter, path string, hit int) bool {
		if hit == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	dir := t.TempDir()
	if err := Download(context.Background(), dir, url, nil); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(dir); err != nil {
		t.Fatal(err)
	}
	if n := srv.total(); n != 36 {
		t.Errorf("%d requests, want 2 per file", n)
	}
}

func TestDownloadNotFoundIsNotRetried(t *testing.T) {
	fastRetries(t)
	srv, url := newServer(t)
	srv.fail = func(w http.ResponseWriter, path string, _ int) bool {
		http.NotFound(w, nil)
		return true
	}
	err := Download(context.Background(), t.TempDir(), url, nil)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "by hand") {
		t.Fatalf("error %v, want an HTTP 404 with instructions", err)
	}
	if n := srv.total(); n != 1 {
		t.Errorf("%d requests, want 1 (a 404 is final)", n)
	}
}

func TestDownloadNoNetwork(t *testing.T) {
	fastRetries(t)
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there any more
	dir := t.TempDir()
	err := Download(context.Background(), dir, url, nil)
	if err == nil {
		t.Fatal("Download succeeded without a server")
	}
	t.Log(err)
	dest := filepath.Join(dir, "split2_model7", "MATH_prealgebra.json")
	for _, want := range []string{"gave up after 3 attempts", "by hand", url + "/split2_model7/MATH_prealgebra.json", dest, EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestDownloadCanceled(t *testing.T) {
	_, url := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Download(ctx, t.TempDir(), url, nil); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("Download with a canceled context = %v", err)
	}
}

func TestUpstreamURL(t *testing.T) {
	want := "https://raw.githubusercontent.com/shuhao02/RouterDC/0e63989c5bf4363330b8a4616386e3f7f116d9f8/datasets"
	if UpstreamBaseURL != want {
		t.Errorf("UpstreamBaseURL = %s, want %s", UpstreamBaseURL, want)
	}
}
