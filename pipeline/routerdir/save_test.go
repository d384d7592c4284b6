package routerdir

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/hostrouters"
)

func knnRouter(t *testing.T) *Router {
	t.Helper()
	texts, ex := toy()
	enc := encode.NewHashed(encode.HashedConfig{Bits: 10})
	enc.Fit(texts)
	x, _ := enc.Encode(texts)
	h := hostrouters.NewKNN(5)
	if err := h.Fit(x, ex.Scores, ex.Task); err != nil {
		t.Fatal(err)
	}
	return NewHostRouter(Meta{Kind: "knn", LLMs: []string{"a", "b", "c", "d"}}, enc, h)
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// Save used to rename whatever was at the path aside and delete it.
func TestSaveRefusesWhatIsNotARouter(t *testing.T) {
	r := knnRouter(t)
	parent := t.TempDir()

	notes := filepath.Join(parent, "notes")
	os.Mkdir(notes, 0o755)
	os.WriteFile(filepath.Join(notes, "thesis.tex"), []byte("years of work"), 0o644)
	err := r.Save(notes)
	if err == nil || !strings.Contains(err.Error(), notes) || !strings.Contains(err.Error(), MetaFile) {
		t.Errorf("Save over a directory of other files: %v, want an error naming %s and %s", err, notes, MetaFile)
	}
	if b, _ := os.ReadFile(filepath.Join(notes, "thesis.tex")); string(b) != "years of work" {
		t.Errorf("the directory's file is gone or changed: %q", b)
	}

	file := filepath.Join(parent, "file")
	os.WriteFile(file, []byte("keep"), 0o644)
	err = r.Save(file)
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Save over a plain file: %v, want an error naming it", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("the plain file is gone or changed: %q", b)
	}
	if got := names(t, parent); !slices.Equal(got, []string{"file", "notes"}) {
		t.Errorf("refused saves left %v", got)
	}

	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if err := r.Save(empty); err != nil {
		t.Errorf("Save into an empty directory: %v", err)
	}
}

func TestSaveReplacesARouter(t *testing.T) {
	r := knnRouter(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "knn")
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	// Not the program's: an unrelated "knn.old", a temp of another router,
	// and names that only look like Save's temps.
	keep := []string{"knn.old", ".other.tmp-123", ".knn.tmp-notes", ".knn.tmp-"}
	for _, k := range keep {
		os.Mkdir(filepath.Join(parent, k), 0o755)
		os.WriteFile(filepath.Join(parent, k, "f"), []byte("x"), 0o644)
	}
	// What a killed Save leaves behind: a half-written temp directory.
	stale := filepath.Join(parent, ".knn.tmp-2891734")
	os.Mkdir(stale, 0o700)
	os.WriteFile(filepath.Join(stale, EncoderFile), []byte("{"), 0o644)
	os.WriteFile(filepath.Join(dir, "extra"), []byte("from the old router"), 0o644)

	r.Meta.Seed = 7
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil || loaded.Meta.Seed != 7 {
		t.Fatalf("replaced router: %v, %+v", err, loaded)
	}
	if _, err := os.Stat(filepath.Join(dir, "extra")); err == nil {
		t.Error("the old router's files survive in the new one")
	}
	want := append([]string{"knn"}, keep...)
	slices.Sort(want)
	if got := names(t, parent); !slices.Equal(got, want) {
		t.Errorf("beside the router: %v, want %v (stale temp removed, the rest kept)", got, want)
	}
	for _, k := range keep {
		if b, _ := os.ReadFile(filepath.Join(parent, k, "f")); string(b) != "x" {
			t.Errorf("%s was changed", k)
		}
	}
}

// A reader must always find a whole router at the path, the old or the new
// one, never none: Save used to move the old one aside before moving the
// new one in.
func TestSaveReplacesInOneStep(t *testing.T) {
	r := knnRouter(t)
	dir := filepath.Join(t.TempDir(), "knn")
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	stop, missing := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				missing <- n
				return
			default:
			}
			if _, err := os.Stat(filepath.Join(dir, MetaFile)); err != nil {
				n++
			}
		}
	}()
	for range 30 {
		if err := r.Save(dir); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if n := <-missing; n > 0 {
		t.Errorf("%s was missing %d times while Save replaced it", filepath.Join(dir, MetaFile), n)
	}
}

// Where the system cannot swap two directories, Save falls back to two
// renames; it must still replace only a router and leave nothing behind.
func TestSaveReplacesWithoutExchange(t *testing.T) {
	defer func(e func(a, b string) error) { exchange = e }(exchange)
	exchange = func(a, b string) error { return errNoExchange }
	r := knnRouter(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "knn")
	for seed := range int64(2) {
		r.Meta.Seed = seed
		if err := r.Save(dir); err != nil {
			t.Fatal(err)
		}
	}
	if loaded, err := Load(dir); err != nil || loaded.Meta.Seed != 1 {
		t.Fatalf("replaced router: %v, %+v", err, loaded)
	}
	if got := names(t, parent); !slices.Equal(got, []string{"knn"}) {
		t.Errorf("beside the router: %v", got)
	}
}
