package data

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// entries lists what dir holds, recursively, as slash paths.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// TestDownloadRefusesForeignDir: `routerdc data --data /tmp` created
// split2_model7/ in /tmp and downloaded there. A non-empty directory with
// none of the released files and no earlier download of ours is refused,
// with nothing created, requested or deleted.
func TestDownloadRefusesForeignDir(t *testing.T) {
	srv, url := newServer(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	os.Mkdir(filepath.Join(dir, "photos"), 0o755)
	before := entries(t, dir)
	err := Download(context.Background(), dir, url, nil)
	for _, want := range []string{dir, "none of the released", "empty or new directory", EnvVar} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Download into a foreign dir: %v, want an error containing %q", err, want)
		}
	}
	if after := entries(t, dir); !slices.Equal(before, after) {
		t.Errorf("the foreign dir changed: %v, was %v", after, before)
	}
	if n := srv.total(); n != 0 {
		t.Errorf("%d requests made before refusing", n)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "mine" {
		t.Error("notes.txt changed")
	}
}

// TestDownloadResumesOwnDir: a directory an earlier download of ours began
// (a released file there, or only its folders) is downloaded into.
func TestDownloadResumesOwnDir(t *testing.T) {
	for name, setup := range map[string]func(dir string){
		"a released file": func(dir string) {
			f := Files()[0]
			b, err := os.ReadFile(filepath.Join(sourceDir(t), filepath.FromSlash(f.Path)))
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Dir(filepath.Join(dir, filepath.FromSlash(f.Path))), 0o755)
			os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.Path)), b, 0o644)
		},
		"only the encoders (`routerdc data --encoders` ran first)": func(dir string) {
			os.MkdirAll(filepath.Join(dir, "encoders", "use-lite"), 0o755)
		},
		"an interrupted download's folder": func(dir string) {
			os.MkdirAll(filepath.Join(dir, "split2_model7"), 0o755)
			os.WriteFile(filepath.Join(dir, "split2_model7", ".mbpp.json.part-123"), []byte("x"), 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, url := newServer(t)
			dir := t.TempDir()
			setup(dir)
			if err := Download(context.Background(), dir, url, nil); err != nil {
				t.Fatal(err)
			}
			if err := CheckDir(dir); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestDownloadCreatesNothingOnFailure: without a server, a new data dir
// is not created at all.
func TestDownloadCreatesNothingOnFailure(t *testing.T) {
	fastRetries(t)
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	base := t.TempDir()
	dir := filepath.Join(base, "new", "data")
	if err := Download(context.Background(), dir, url, nil); err == nil {
		t.Fatal("Download succeeded without a server")
	}
	if got := entries(t, base); len(got) > 0 {
		t.Errorf("a failed download created %v", got)
	}
}
