package onnxenc

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// tinyDir is the test model testdata/make_tiny_bert.py writes.
const tinyDir = "testdata/tiny_bert"

type reference struct {
	Hidden    int `json:"hidden"`
	TruncLen  int `json:"trunc_len"`
	Sentences []struct {
		Text     string    `json:"text"`
		IDs      []int     `json:"ids"`
		CLS      []float64 `json:"cls"`
		Mean     []float64 `json:"mean"`
		TruncIDs []int     `json:"trunc_ids"`
		TruncCLS []float64 `json:"trunc_cls"`
	} `json:"sentences"`
}

func readReference(t *testing.T) reference {
	t.Helper()
	r := datatest.ReadJSON[reference](t, "testdata/reference.json")
	if len(r.Sentences) < 6 {
		t.Fatalf("reference.json has %d sentences", len(r.Sentences))
	}
	return r
}

// settings are the defaults with the given overrides.
func settings(kv ...any) routers.Values {
	v := routers.Values{}
	for k, d := range routers.Defaults() {
		v[k] = d
	}
	v[encode.ParamEncoder] = Kind
	v[ParamPath] = tinyDir
	for i := 0; i < len(kv); i += 2 {
		v[kv[i].(string)] = kv[i+1]
	}
	return v
}

func newEncoder(t *testing.T, v routers.Values) *Encoder {
	t.Helper()
	e, err := encode.New(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.(*Encoder)
}

func texts(r reference) []string {
	var out []string
	for _, s := range r.Sentences {
		out = append(out, s.Text)
	}
	return out
}

func maxDiff(t *testing.T, got []float32, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	var d float64
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

// The tokenizer (go-huggingface) agrees with the script's own WordPiece.
func TestTokenizerMatchesReference(t *testing.T) {
	r := readReference(t)
	tok, err := newTokenizer(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sentences {
		if got := tok.encode(s.Text, 512); !slices.Equal(got, s.IDs) {
			t.Errorf("%q: ids %v, want %v", s.Text, got, s.IDs)
		}
		if got := tok.encode(s.Text, r.TruncLen); !slices.Equal(got, s.TruncIDs) {
			t.Errorf("%q truncated to %d: ids %v, want %v (left truncation keeps [CLS] and the end)", s.Text, r.TruncLen, got, s.TruncIDs)
		}
	}
}

// The forward pass matches the independent numpy one, batched with padding.
func TestForwardMatchesReference(t *testing.T) {
	r := readReference(t)
	for _, c := range []struct {
		pooling string
		maxLen  int
		want    func(i int) []float64
	}{
		{PoolCLS, 512, func(i int) []float64 { return r.Sentences[i].CLS }},
		{PoolMean, 512, func(i int) []float64 { return r.Sentences[i].Mean }},
		{PoolCLS, r.TruncLen, func(i int) []float64 { return r.Sentences[i].TruncCLS }},
	} {
		e := newEncoder(t, settings(ParamPooling, c.pooling, ParamMaxLen, c.maxLen))
		if e.Dim() != r.Hidden {
			t.Fatalf("Dim %d, want %d", e.Dim(), r.Hidden)
		}
		x, err := e.Encode(texts(r))
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range r.Sentences {
			d := maxDiff(t, x[i], c.want(i))
			if d > 1e-5 {
				t.Errorf("%s max_len=%d sentence %d: max |diff| %.2g from the numpy reference", c.pooling, c.maxLen, i, d)
			}
			worst = math.Max(worst, d)
		}
		t.Logf("%s max_len=%d: max |diff| %.2g from the numpy reference", c.pooling, c.maxLen, worst)
		// One text alone (no padding) gives the same vector.
		one, err := e.Encode(texts(r)[4:5])
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(t, one[0], c.want(4)); d > 1e-5 {
			t.Errorf("%s alone: max |diff| %.2g", c.pooling, d)
		}
	}
}

func TestSourceFollowsContent(t *testing.T) {
	h1, err := kind{}.Source(settings())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range requiredFiles {
		b, err := os.ReadFile(filepath.Join(tinyDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h2, err := kind{}.Source(settings(ParamPath, dir))
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 || len(h1) != 64 {
		t.Fatalf("copied directory hashes %s, original %s: want the same SHA256", h2, h1)
	}
	cfg := filepath.Join(dir, ConfigFile)
	if err := os.WriteFile(cfg, []byte(`{"hidden_size": 32}`), 0o644); err != nil {
		t.Fatal(err)
	}
	h3, err := kind{}.Source(settings(ParamPath, dir))
	if err != nil {
		t.Fatal(err)
	}
	if h3 == h1 {
		t.Fatal("changing config.json kept the hash")
	}
}
