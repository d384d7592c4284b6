package uselite

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// reference is testdata/reference.json, made by make_reference.mjs with
// the package's own TF.js code.
type reference struct {
	ModelJSONSHA256 string `json:"model_json_sha256"`
	Sentences       []struct {
		Text   string    `json:"text"`
		IDs    []int     `json:"ids"`
		Vector []float64 `json:"vector"`
	} `json:"sentences"`
}

func readReference(t *testing.T) reference {
	t.Helper()
	r := datatest.ReadJSON[reference](t, "testdata/reference.json")
	if r.ModelJSONSHA256 != packageFiles["dist/model.json"] {
		t.Fatalf("reference.json was made with model.json %s, the pinned package has %s", r.ModelJSONSHA256, packageFiles["dist/model.json"])
	}
	if len(r.Sentences) < 20 {
		t.Fatalf("reference.json has %d sentences, want at least 20", len(r.Sentences))
	}
	return r
}

// packageDir is the fetched package under the data directory. Tests that
// need it fail without it (CI runs `just encoders` first), except in
// -short runs.
func packageDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the USE-lite package (`just encoders`); skipped in -short")
	}
	dir := DefaultDir(data.EncodersDir())
	if _, err := CheckDir(dir); err != nil {
		t.Fatalf("%v\n(the tests need it: run `just encoders` first)", err)
	}
	return dir
}

var (
	openOnce sync.Once
	opened   *Encoder
	openErr  error
)

func testEncoder(t *testing.T) *Encoder {
	t.Helper()
	dir := packageDir(t)
	openOnce.Do(func() { opened, openErr = Open(dir) })
	if openErr != nil {
		t.Fatal(openErr)
	}
	return opened
}

func TestTokenizerMatchesJS(t *testing.T) {
	ref := readReference(t)
	enc := testEncoder(t)
	for _, s := range ref.Sentences {
		got := enc.Tokenize(s.Text)
		if !slices.Equal(got, s.IDs) && !(len(got) == 0 && len(s.IDs) == 0) {
			t.Errorf("Tokenize(%q)\n got %v\nwant %v (the JS tokenizer's)", s.Text, got, s.IDs)
		}
	}
}

// Both forms of the attention (Model.attention: per head, or all heads in
// one product, chosen by the SIMD level) match TF.js, whatever this CPU is.
func TestVectorsMatchTFJS(t *testing.T) {
	for _, cross := range []bool{false, true} {
		t.Run(fmt.Sprintf("crossHeads=%v", cross), func(t *testing.T) {
			enc := testEncoder(t)
			if enc.model.crossHeads != cross {
				var err error
				if enc, err = Open(packageDir(t)); err != nil {
					t.Fatal(err)
				}
				enc.model.crossHeads = cross
			}
			vectorsMatchTFJS(t, enc)
		})
	}
}

func vectorsMatchTFJS(t *testing.T, enc *Encoder) {
	ref := readReference(t)
	texts := make([]string, len(ref.Sentences))
	for i, s := range ref.Sentences {
		texts[i] = s.Text
	}
	got, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	// One by one too: padding and batch neighbours must not matter.
	single, err := enc.Encode(texts[3:4])
	if err != nil {
		t.Fatal(err)
	}
	var worstAbs, worstCos float64
	check := func(name string, got []float32, want []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d dims, want %d", name, len(got), len(want))
		}
		var dot, maxAbs float64
		for i := range got {
			dot += float64(got[i]) * want[i]
			maxAbs = max(maxAbs, math.Abs(float64(got[i])-want[i]))
		}
		worstAbs, worstCos = max(worstAbs, maxAbs), max(worstCos, 1-dot)
		if maxAbs > 1e-4 || 1-dot > 1e-5 {
			t.Errorf("%s: max |diff| %.2g, 1-cosine %.2g vs TF.js (want <= 1e-4, 1e-5)", name, maxAbs, 1-dot)
		}
	}
	for i, s := range ref.Sentences {
		check(texts[i], got[i], s.Vector)
	}
	check("alone: "+texts[3], single[0], ref.Sentences[3].Vector)
	t.Logf("worst of %d sentences: max |diff| %.2g, 1-cosine %.2g", len(texts), worstAbs, worstCos)
}

// The same texts give the same bits on every call: cached and recomputed
// vectors must agree.
func TestDeterministic(t *testing.T) {
	ref := readReference(t)
	enc := testEncoder(t)
	var texts []string
	for _, s := range ref.Sentences {
		texts = append(texts, s.Text)
	}
	a, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("text %q: two calls gave different vectors", texts[i])
		}
	}
}
