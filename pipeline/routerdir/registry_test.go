package routerdir

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/hostrouters"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// TestEveryKindRegistered: a program that can load router directories
// knows all seven kinds, and every setting is declared once with a
// description and an origin, so DefaultParams and ParamNames derive from
// the declarations.
func TestEveryKindRegistered(t *testing.T) {
	want := []string{"cosine", "knn", "lora", "prior", "routerdc", "task", "zooter"}
	if got := routers.Names(); !slices.Equal(got, want) {
		t.Fatalf("registered kinds %v, want %v", got, want)
	}
	for _, name := range want {
		k, _ := routers.Lookup(name)
		if k.GoMLX() != router.IsGraphKind(name) || k.GoMLX() != slices.Contains([]string{"routerdc", "cosine", "zooter"}, name) {
			t.Errorf("kind %s: GoMLX %v", name, k.GoMLX())
		}
	}
	d := router.DefaultParams()
	names := router.ParamNames()
	if len(d) != len(names) || len(names) != 45 {
		t.Errorf("%d defaults, %d names; want 45 of each", len(d), len(names))
	}
	// A router directory may hold any encoder kind: routerdir links them all.
	if got, want := encode.Names(), []string{"hashed", "ngram-svd", "onnx", "use-lite", "use-lite+ngram"}; !slices.Equal(got, want) {
		t.Errorf("encoder kinds %v, want %v", got, want)
	}
	for _, s := range routers.Settings() {
		if s.Doc == "" || (s.Origin != routers.Paper && s.Origin != routers.Ours) || d[s.Key] != s.Default {
			t.Errorf("setting %s: doc %q, origin %q, default %v (DefaultParams %v)", s.Key, s.Doc, s.Origin, s.Default, d[s.Key])
		}
	}
	if err := router.ApplySettings(router.NewStore(1), []string{"router=prior;knn_k=0"}); err == nil || !strings.Contains(err.Error(), "knn_k=0: want an integer >= 1") {
		t.Errorf("knn_k=0: %v", err)
	}
}

// TestLoadUnknownKind: router.json naming a kind no package registered is
// an error naming the file, the field and the known kinds.
func TestLoadUnknownKind(t *testing.T) {
	texts, _ := toy()
	dir := filepath.Join(t.TempDir(), "r")
	enc := hashed(texts)
	r := NewHostRouter(Meta{Kind: "task", LLMs: []string{"a", "b", "c", "d"}}, enc, fittedTask(t, enc, texts))
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, MetaFile))
	os.WriteFile(filepath.Join(dir, MetaFile), []byte(strings.Replace(string(meta), `"kind": "task"`, `"kind": "gpt"`, 1)), 0o644)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), `router.json: field "kind": unknown router kind "gpt" (known: cosine, knn,`) {
		t.Errorf("unknown kind: %v", err)
	}
}

func hashed(texts []string) *encode.Hashed {
	enc := encode.NewHashed(encode.HashedConfig{Bits: 10})
	enc.Fit(texts)
	return enc
}

func fittedTask(t *testing.T, enc *encode.Hashed, texts []string) *hostrouters.TaskLevel {
	_, ex := toy()
	x, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	h := hostrouters.NewTaskLevel()
	if err := h.Fit(x, ex.Scores, ex.Task); err != nil {
		t.Fatal(err)
	}
	return h
}
