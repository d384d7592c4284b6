package encode

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return d / math.Sqrt(na*nb)
}

func nonZero(v []float32) int {
	n := 0
	for _, x := range v {
		if x != 0 {
			n++
		}
	}
	return n
}

var corpus = []string{
	"What is the capital of France?",
	"Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
	"def add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n",
	"1991年我国加入《关于向国外送达民事或商事司法文书和司法外文书公约》",
	"Which of the following is a renewable source of energy?",
	"下列关于中国古代科举制度的说法，正确的是",
}

func fitted(t testing.TB, cfg HashedConfig) *Hashed {
	t.Helper()
	h := NewHashed(cfg)
	h.Fit(corpus)
	return h
}

func mustEncode(t testing.TB, h *Hashed, texts []string) [][]float32 {
	t.Helper()
	v, err := h.Encode(texts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestHashedDeterministic(t *testing.T) {
	// A batch big enough to run on several goroutines.
	var texts []string
	for i := 0; i < 500; i++ {
		texts = append(texts, corpus[i%len(corpus)]+" "+string(rune('a'+i%26)))
	}
	a := mustEncode(t, fitted(t, HashedConfig{}), texts)
	b := mustEncode(t, fitted(t, HashedConfig{}), texts)
	prev := runtime.GOMAXPROCS(1)
	c := mustEncode(t, fitted(t, HashedConfig{}), texts)
	runtime.GOMAXPROCS(prev)
	for i := range texts {
		one := mustEncode(t, fitted(t, HashedConfig{}), texts[i:i+1])[0]
		for j := range a[i] {
			if a[i][j] != b[i][j] || a[i][j] != c[i][j] || a[i][j] != one[j] {
				t.Fatalf("text %d bucket %d differs: %v %v %v %v", i, j, a[i][j], b[i][j], c[i][j], one[j])
			}
		}
	}
}

// TestHashedGolden pins the hash: buckets must never move between versions,
// or saved encoders and caches would silently change meaning.
func TestHashedGolden(t *testing.T) {
	h := NewHashed(HashedConfig{Bits: 12, CharMin: 1, CharMax: 1, WordMax: -1, Weighting: WeightLog})
	v := mustEncode(t, h, []string{"a", "中", "E"})
	want := []struct {
		bucket int
		val    float32
	}{{goldenA, goldenASign}, {goldenZh, goldenZhSign}, {2625, -1}} // "E" lowercases to "e"
	for i, w := range want {
		if nonZero(v[i]) != 1 || v[i][w.bucket] != w.val {
			for b, x := range v[i] {
				if x != 0 {
					t.Errorf("text %d: got bucket %d = %v, want bucket %d = %v", i, b, x, w.bucket, w.val)
				}
			}
		}
	}
	if got, want := h.Name(), "hashed-b12-c1_1-log"; got != want {
		t.Errorf("Name %q, want %q", got, want)
	}
}

const (
	// Independently computed: mix64(FNV-1a-64("c" + utf8(text))), bucket =
	// low 12 bits, sign = top bit.
	goldenA      = 598
	goldenASign  = 1
	goldenZh     = 2403
	goldenZhSign = 1
)

func TestHashedChinese(t *testing.T) {
	h := fitted(t, HashedConfig{})
	v := mustEncode(t, h, []string{"下列关于中国古代科举制度的说法", "司法文书"})
	for i := range v {
		if nonZero(v[i]) < 10 {
			t.Errorf("Chinese text %d: only %d non-zero features", i, nonZero(v[i]))
		}
	}
	// Word features alone also see Chinese (one word per Han character).
	hw := NewHashed(HashedConfig{CharMax: -1, Weighting: WeightLog})
	w := mustEncode(t, hw, []string{"司法文书"})
	if n := nonZero(w[0]); n != 7 { // 4 unigrams + 3 bigrams, barring collisions
		t.Errorf("word-only features of 4 Han characters: %d non-zero, want 7", n)
	}
}

func TestHashedNearDuplicates(t *testing.T) {
	h := fitted(t, HashedConfig{})
	v := mustEncode(t, h, []string{
		"Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
		"Natalia sold clips to 50 of her friends in March, and then she sold half as many clips in June.",
		"Which of the following is a renewable source of energy?",
		"下列关于中国古代科举制度的说法，正确的是",
		"下列关于中国古代科举制度的说法，错误的是",
	})
	near, far := cosine(v[0], v[1]), cosine(v[0], v[2])
	if near <= far || near < 0.6 {
		t.Errorf("English: near-duplicate cosine %.3f, unrelated %.3f", near, far)
	}
	nearZh, farZh := cosine(v[3], v[4]), cosine(v[3], v[0])
	if nearZh <= farZh || nearZh < 0.6 {
		t.Errorf("Chinese: near-duplicate cosine %.3f, unrelated %.3f", nearZh, farZh)
	}
	for i := range v {
		if n := cosine(v[i], v[i]); math.Abs(n-1) > 1e-5 {
			t.Errorf("text %d: not unit length (%v)", i, n)
		}
	}
}

func TestHashedSaveLoad(t *testing.T) {
	for _, cfg := range []HashedConfig{{}, {Bits: 10, Weighting: WeightLog, RawTF: true}, {Bits: 11, CharMax: -1}} {
		h := fitted(t, cfg)
		path := filepath.Join(t.TempDir(), "enc.json")
		if err := h.Save(path); err != nil {
			t.Fatal(err)
		}
		g, err := LoadHashed(path)
		if err != nil {
			t.Fatal(err)
		}
		if g.Name() != h.Name() || g.Dim() != h.Dim() {
			t.Fatalf("loaded %s/%d, saved %s/%d", g.Name(), g.Dim(), h.Name(), h.Dim())
		}
		a, b := mustEncode(t, h, corpus), mustEncode(t, g, corpus)
		for i := range a {
			for j := range a[i] {
				if a[i][j] != b[i][j] {
					t.Fatalf("%s: text %d bucket %d: %v after load, %v before", h.Name(), i, j, b[i][j], a[i][j])
				}
			}
		}
		if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
			t.Errorf("temp files left behind: %v", ents)
		}
	}
	if _, err := LoadHashed(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("loading a missing file succeeded")
	}
}

func TestHashedIDFDependsOnCorpus(t *testing.T) {
	a, b := NewHashed(HashedConfig{}), NewHashed(HashedConfig{})
	a.Fit(corpus[:3])
	b.Fit(corpus[3:])
	if a.Name() == b.Name() {
		t.Errorf("different corpora, same name %s", a.Name())
	}
	diff := 0
	for i, x := range a.IDF() {
		if x != b.IDF()[i] {
			diff++
		}
	}
	if diff == 0 {
		t.Error("idf fitted on different corpora is identical")
	}
	va, vb := mustEncode(t, a, corpus[:1]), mustEncode(t, b, corpus[:1])
	if cosine(va[0], vb[0]) > 0.9999 {
		t.Error("encodings under different idf are identical")
	}
}

func TestHashedEmpty(t *testing.T) {
	h := fitted(t, HashedConfig{})
	v := mustEncode(t, h, []string{"", "   \n\t ", "a"})
	for i, x := range v[0] {
		if x != 0 || math.IsNaN(float64(v[1][i])) || v[1][i] != 0 {
			t.Fatalf("empty/blank text: bucket %d = %v / %v", i, x, v[1][i])
		}
	}
	if nonZero(v[2]) == 0 {
		t.Error("\"a\" encodes to zero")
	}
	// Punctuation only: char n-grams but no words; still finite.
	p := mustEncode(t, NewHashed(HashedConfig{CharMax: -1, Weighting: WeightLog}), []string{"?!,"})
	for _, x := range p[0] {
		if x != 0 {
			t.Fatal("word-only encoder gives features to punctuation")
		}
	}
	if out := mustEncode(t, h, nil); len(out) != 0 {
		t.Errorf("Encode(nil) gave %d vectors", len(out))
	}
}

func TestHashedConfig(t *testing.T) {
	if _, err := NewHashed(HashedConfig{}).Encode([]string{"x"}); err == nil {
		t.Error("tfidf Encode before Fit succeeded")
	}
	if _, err := NewHashed(HashedConfig{Weighting: WeightLog}).Encode([]string{"x"}); err != nil {
		t.Errorf("log weighting without Fit: %v", err)
	}
	if got := NewHashed(HashedConfig{}).Config(); got != DefaultHashedConfig() {
		t.Errorf("zero config became %+v, want defaults %+v", got, DefaultHashedConfig())
	}
	for _, bad := range []HashedConfig{{Bits: 25}, {CharMin: 3, CharMax: 2}, {CharMax: -1, WordMax: -1}, {Weighting: "bm25"}} {
		if bad.Validate() == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
	h := fitted(t, HashedConfig{Bits: 13, CharMin: 2, CharMax: 3})
	if h.Dim() != 8192 {
		t.Errorf("Dim %d", h.Dim())
	}
}

// ---- real data: skipped when it was never set up, failing when
// ROUTERDC_DATA points at a directory without it ----

func readQuestions(t testing.TB, rel string) []string {
	t.Helper()
	ds, err := data.Load(filepath.Join(datatest.RequireDir(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	q := make([]string, len(ds.Queries))
	for i, r := range ds.Queries {
		q[i] = r.Question
	}
	return q
}

var (
	trainFiles = []string{"mmlu_train", "gsm8k-train", "cmmlu_train", "arc_challenge_train", "humaneval_train"}
	testFiles  = []string{"mmlu_test", "gsm8k-test", "cmmlu_test", "arc_challenge_test", "humaneval_test"}
	oodFiles   = []string{"MATH_prealgebra", "mbpp", "ceval"}
)

// TestHashedRealBatchMatchesOneByOne: on every released query (English,
// Chinese, code, long prompts), encoding in parallel batches gives exactly
// the vectors of encoding one text at a time, each unit length. (The
// encoding speed is BenchmarkHashedEncode in benchmarks/.)
func TestHashedRealBatchMatchesOneByOne(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var train, all []string
	for _, group := range [][]string{trainFiles, testFiles, oodFiles} {
		for _, f := range group {
			q := readQuestions(t, "split2_model7/"+f+".json")
			if group[0] == trainFiles[0] {
				train = append(train, q...)
			}
			all = append(all, q...)
		}
	}
	h := NewHashed(HashedConfig{})
	h.Fit(train)
	// Batches of 512 still run on several goroutines, without holding the
	// features of all queries (8192 float32s each) at once.
	const batch = 512
	for start := 0; start < len(all); start += batch {
		texts := all[start:min(start+batch, len(all))]
		v := mustEncode(t, h, texts)
		for i, text := range texts {
			one := mustEncode(t, h, []string{text})[0]
			for j := range one {
				if v[i][j] != one[j] {
					t.Fatalf("query %d bucket %d: %v in a batch, %v alone", start+i, j, v[i][j], one[j])
				}
			}
			if n := cosine(v[i], v[i]); math.Abs(n-1) > 1e-5 {
				t.Fatalf("query %d (%.40q): squared norm %v, want 1", start+i, text, n)
			}
		}
	}
}

// TestHashedTaskSeparation: nearest-centroid task classification of the 5
// in-distribution test sets against centroids of the 5 training sets (idf
// fitted on the training queries).
func TestHashedTaskSeparation(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var train, test [][]string
	for i := range trainFiles {
		train = append(train, readQuestions(t, "split2_model7/"+trainFiles[i]+".json"))
		test = append(test, readQuestions(t, "split2_model7/"+testFiles[i]+".json"))
	}
	var allTrain []string
	for _, q := range train {
		allTrain = append(allTrain, q...)
	}
	for _, bits := range []int{10, 11, 12, 13, 14} {
		h := NewHashed(HashedConfig{Bits: bits})
		h.Fit(allTrain)
		cents := make([][]float32, len(train))
		for k, q := range train {
			v := mustEncode(t, h, q)
			c := make([]float32, h.Dim())
			for _, x := range v {
				for j := range x {
					c[j] += x[j]
				}
			}
			cents[k] = c
		}
		var correct, total int
		perTask := make([]float64, len(test))
		for k, q := range test {
			ok := 0
			for _, x := range mustEncode(t, h, q) {
				best, bestSim := -1, math.Inf(-1)
				for c := range cents {
					if s := cosine(x, cents[c]); s > bestSim {
						best, bestSim = c, s
					}
				}
				if best == k {
					ok++
				}
			}
			perTask[k] = 100 * float64(ok) / float64(len(q))
			correct += ok
			total += len(q)
		}
		acc := 100 * float64(correct) / float64(total)
		t.Logf("Bits %d: nearest-centroid task accuracy %.2f%% (per task mmlu/gsm8k/cmmlu/arc/humaneval: %.1f %.1f %.1f %.1f %.1f)",
			bits, acc, perTask[0], perTask[1], perTask[2], perTask[3], perTask[4])
		if acc < 80 {
			t.Errorf("Bits %d: task accuracy %.2f%% < 80%%", bits, acc)
		}
	}
}
