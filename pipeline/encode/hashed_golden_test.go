package encode

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
)

// releasedQuestions: every question of the released files (the cluster
// split repeats split2_model7's training questions: left out), then
// edgeTexts; train is the training files' questions.
func releasedQuestions(t testing.TB) (train, all []string) {
	dir := datatest.RequireDir(t)
	for _, f := range data.Files() {
		if strings.HasPrefix(f.Path, "split2_model7_cluster/") || !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		ds, err := data.Load(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range ds.Queries {
			all = append(all, q.Question)
			if strings.HasSuffix(f.Path, "train.json") {
				train = append(train, q.Question)
			}
		}
	}
	return train, append(all, edgeTexts...)
}

// edgeTexts reach the corners of normalisation and word splitting that
// the released questions may miss.
var edgeTexts = []string{
	"", " ", "\t\n\v\f\r \u0085\u00a0\u2028\u3000", "A", "  Leading and trailing  ",
	"invalid \xff\xfe utf-8 \xed\xa0\x80 surrogate \xc3", "KELVIN \u212a sign, İstanbul, ΣΊΣΥΦΟΣ",
	"ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "combining e\u0301 marks a\u0308", "日本語のテキスト、カタカナ、ひらがな",
	"한국어 텍스트", "emoji 🙂🙃 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "mixed中文English混合123数字", "x_y-z.w/v\\u'q\"",
	"٣٤٥ arabic digits ١٢", "tabs\tand\nnewlines\r\nCRLF", strings.Repeat("aa ", 3000),
}

// rowHasher hashes rows by their non-zero entries (bucket, float32 bits):
// cheaper than the dense rows and as strict, since zero is all that is left.
type rowHasher struct{ h hash.Hash }

func newRowHasher() rowHasher { return rowHasher{sha256.New()} }

func (r rowHasher) word(w uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], w)
	r.h.Write(b[:])
}

func (r rowHasher) dense(v []float32) {
	for i, x := range v {
		if bits := math.Float32bits(x); bits != 0 {
			r.word(uint32(i))
			r.word(bits)
		}
	}
	r.word(math.MaxUint32)
}

func (r rowHasher) sparse(s sparseRow) {
	for i, b := range s.idx {
		r.word(uint32(b))
		r.word(math.Float32bits(s.val[i]))
	}
	r.word(math.MaxUint32)
}

func (r rowHasher) float64s(v []float64) {
	for _, x := range v {
		b := math.Float64bits(x)
		r.word(uint32(b))
		r.word(uint32(b >> 32))
	}
}

func (r rowHasher) sum() string { return hex.EncodeToString(r.h.Sum(nil))[:16] }

// TestHashedOutputsUnchanged pins, on every released question, what the
// hashed encoder computes: the fitted idf, the dense vectors, the sparse
// rows (their order too: the SVD fit and encoder read them in that order)
// and an SVD encoder built on them. The hashes were recorded with the
// encoder as it was before the speed work of issue #14; a change here
// changes cached features and the paper's tables.
func TestHashedOutputsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	train, all := releasedQuestions(t)
	cases := []struct {
		cfg                HashedConfig
		idf, dense, sparse string
	}{
		{HashedConfig{}, "5021ba930e863a5e", "a416f3a0cb3c6cde", "f749281ae086a92a"},
		{HashedConfig{Bits: 16}, "a954c2d24e9b99c3", "5cbff7dc1fd2b18b", "0ae4f76fe53212ba"},
		{HashedConfig{RawTF: true}, "5021ba930e863a5e", "e6d502a4aa28de81", "ab8f5d79056d42dc"},
		{HashedConfig{Bits: 10, Weighting: WeightLog}, "e3b0c44298fc1c14", "5014537338d89e04", "26325e2b39930aba"},
		{HashedConfig{CharMin: 2, CharMax: 3, WordMax: -1}, "7e81a119f60f812f", "ade4c29e0c7fdfcd", "68f2e97988098170"},
		{HashedConfig{Bits: 14, CharMax: -1, WordMax: 3, Weighting: WeightLog}, "e3b0c44298fc1c14", "df74f395a84de924", "5cce7773e97e9f21"},
		{HashedConfig{Bits: 6}, "9043866d5dcc13b0", "fda20d32d3f88687", "48f18c2a981c9c1f"},
	}
	for _, c := range cases {
		h := NewHashed(c.cfg)
		h.Fit(train)
		idf := newRowHasher()
		idf.float64s(h.idf)
		// Dense rows of 2^16 buckets for every question would be gigabytes
		// of zeroes: the first 2000 questions and the edge texts.
		texts := all
		if h.cfg.Bits > 12 {
			texts = append(all[:2000:2000], edgeTexts...)
		}
		dense := newRowHasher()
		for lo := 0; lo < len(texts); lo += 512 {
			for _, v := range mustEncode(t, h, texts[lo:min(lo+512, len(texts))]) {
				dense.dense(v)
			}
		}
		rows, err := h.encodeSparse(all)
		if err != nil {
			t.Fatal(err)
		}
		sparse := newRowHasher()
		for _, r := range rows {
			sparse.sparse(r)
		}
		if got := [3]string{idf.sum(), dense.sum(), sparse.sum()}; got != [3]string{c.idf, c.dense, c.sparse} {
			t.Errorf("%s: idf, dense, sparse hashes %q, want %q", h.Name(), got, [3]string{c.idf, c.dense, c.sparse})
		}
	}

	s, err := FitSVD(HashedConfig{Bits: 14}, 16, train, 1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Encode(all)
	if err != nil {
		t.Fatal(err)
	}
	svd := newRowHasher()
	for _, x := range v {
		svd.dense(x)
	}
	if got, want := s.Name()+" "+svd.sum(), "ngram-svd-b14-k16-09bd542c9e30bce3 f3644a81950fdd9b"; got != want {
		t.Errorf("SVD name and encoding hash %q, want %q", got, want)
	}
}
