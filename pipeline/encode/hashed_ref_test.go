package encode

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// refHashed is the hashed encoder as it was before the speed work of issue
// #14 (float32 counts over a dense row, a scan of every bucket to weight
// it), kept verbatim as the reference the fast encoder must match bit for
// bit: features feed cached stages and the paper's tables.
type refHashed struct {
	cfg HashedConfig
	idf []float64
}

func refOf(h *Hashed) refHashed { return refHashed{cfg: h.cfg, idf: h.idf} }

type refScratch struct {
	norm    []byte
	starts  []int
	words   []string
	track   bool
	touched []int32
}

// encode is the old Encode of one text.
func (h refHashed) encode(text string) []float32 {
	v := make([]float32, 1<<h.cfg.Bits)
	var sc refScratch
	h.countInto(text, v, &sc)
	h.weight(v, nil)
	return v
}

// encodeSparse is the old encodeSparse of one text.
func (h refHashed) encodeSparse(text string) sparseRow {
	counts := make([]float32, 1<<h.cfg.Bits)
	sc := refScratch{track: true}
	h.countInto(text, counts, &sc)
	var r sparseRow
	for _, b := range sc.touched {
		if c := counts[b]; c != 0 {
			r.idx = append(r.idx, b)
			r.val = append(r.val, c)
			counts[b] = 0
		}
	}
	h.weight(r.val, r.idx)
	return r
}

// touched is the old countInto's list of touched buckets (with repeats).
func (h refHashed) touched(text string) []int32 {
	counts := make([]float32, 1<<h.cfg.Bits)
	sc := refScratch{track: true}
	h.countInto(text, counts, &sc)
	return sc.touched
}

// fit is the old Fit on one goroutine.
func (h refHashed) fit(texts []string) []float64 {
	dim := 1 << h.cfg.Bits
	df := make([]int32, dim)
	counts := make([]float32, dim)
	sc := refScratch{track: true}
	for _, t := range texts {
		sc.touched = sc.touched[:0]
		h.countInto(t, counts, &sc)
		for _, b := range sc.touched {
			if counts[b] != 0 {
				df[b]++
				counts[b] = 0
			}
		}
	}
	n := float64(len(texts))
	idf := make([]float64, dim)
	for b := range idf {
		idf[b] = math.Log((1+n)/(1+float64(df[b]))) + 1
	}
	return idf
}

func (h refHashed) termWeight(b int, c float32) float64 {
	t := float64(c)
	if !h.cfg.RawTF {
		if t > 0 {
			t = math.Log1p(t)
		} else {
			t = -math.Log1p(-t)
		}
	}
	if h.idf != nil {
		t *= h.idf[b]
	}
	return t
}

func (h refHashed) weight(v []float32, idx []int32) {
	var ss float64
	for i, c := range v {
		if c == 0 {
			continue
		}
		b := i
		if idx != nil {
			b = int(idx[i])
		}
		t := h.termWeight(b, c)
		v[i] = float32(t)
		ss += t * t
	}
	if ss == 0 {
		return
	}
	inv := 1 / math.Sqrt(ss)
	for b, c := range v {
		if c != 0 {
			v[b] = float32(float64(c) * inv)
		}
	}
}

func (h refHashed) countInto(text string, counts []float32, sc *refScratch) {
	c := h.cfg
	mask := uint64(len(counts) - 1)
	add := func(x uint64) {
		m := mix64(x)
		if sc.track {
			sc.touched = append(sc.touched, int32(m&mask))
		}
		if m>>63 == 0 {
			counts[m&mask]++
		} else {
			counts[m&mask]--
		}
	}

	norm := sc.norm[:0]
	space := false
	for _, r := range text {
		if unicode.IsSpace(r) {
			space = len(norm) > 0
			continue
		}
		if space {
			norm = append(norm, ' ')
			space = false
		}
		norm = utf8.AppendRune(norm, unicode.ToLower(r))
	}
	sc.norm = norm

	if c.CharMax >= 1 {
		starts := sc.starts[:0]
		for i := range string(norm) {
			starts = append(starts, i)
		}
		nr := len(starts)
		starts = append(starts, len(norm))
		sc.starts = starts
		for i := 0; i < nr; i++ {
			x := uint64(fnvOffset)
			x = (x ^ tagChar) * fnvPrime
			for n := 1; n <= c.CharMax && i+n <= nr; n++ {
				for p := starts[i+n-1]; p < starts[i+n]; p++ {
					x = (x ^ uint64(norm[p])) * fnvPrime
				}
				if n >= c.CharMin {
					add(x)
				}
			}
		}
	}

	if c.WordMax >= 1 {
		words := sc.words[:0]
		s := string(norm)
		start := -1
		for i, r := range s {
			switch {
			case refIsSoloRune(r):
				if start >= 0 {
					words = append(words, s[start:i])
					start = -1
				}
				words = append(words, s[i:i+utf8.RuneLen(r)])
			case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
				if start < 0 {
					start = i
				}
			default:
				if start >= 0 {
					words = append(words, s[start:i])
					start = -1
				}
			}
		}
		if start >= 0 {
			words = append(words, s[start:])
		}
		sc.words = words
		for i := range words {
			x := uint64(fnvOffset)
			x = (x ^ tagWord) * fnvPrime
			for n := 1; n <= c.WordMax && i+n <= len(words); n++ {
				if n > 1 {
					x = (x ^ ' ') * fnvPrime
				}
				x = fnvBytes(x, words[i+n-1])
				if n >= c.WordMin {
					add(x)
				}
			}
		}
	}
}

func refIsSoloRune(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r))
}

// trickyPieces are the runes and bytes random texts are made of: every
// branch of normalisation and word splitting (ASCII and Unicode spaces,
// case mappings that change a rune's length or leave ASCII, scripts with
// and without spaces, marks, invalid UTF-8).
var trickyPieces = []string{
	"a", "B", "z", "Q", "7", "0", ".", ",", "-", "_", "'", "\"", "(", "\\",
	" ", "  ", "\t", "\n", "\r\n", "\v", "\f", "\u0085", "\u00a0", "\u1680", "\u2028", "\u3000",
	"É", "é", "ß", "İ", "\u212a", "Σ", "ς", "\u023a", "Ａ", "１", "\u0301", "\u0308",
	"中", "文", "\u2e80", "\u2f00", "\U00020000", "。", "、", "か", "カ", "ｶ", "한", "٣", "🙂", "𝔘",
	"\xff", "\x80", "\xe4\xb8", "\xed\xa0\x80", "\xc3",
	"the ", "What ", "question", "数学",
}

func randomText(rng *rand.Rand) string {
	var b strings.Builder
	for n := rng.IntN(40); n > 0; n-- {
		b.WriteString(trickyPieces[rng.IntN(len(trickyPieces))])
	}
	return b.String()
}

// referenceConfigs: the default and the corners of the n-gram ranges and
// sizes (a vector smaller than one word of the seen bitmap, buckets that
// collide so counts cancel to zero).
var referenceConfigs = []HashedConfig{
	{},
	{RawTF: true},
	{Bits: 1, Weighting: WeightLog},
	{Bits: 3},
	{Bits: 6, CharMin: 2, CharMax: 3, WordMax: 3},
	{Bits: 7, CharMax: -1, WordMin: 2, WordMax: 3, Weighting: WeightLog},
	{Bits: 16, CharMin: 4, CharMax: 5, WordMax: -1},
}

// checkAgainstReference fails unless h encodes texts (dense and sparse
// rows) and lists touched buckets exactly as the reference encoder does.
func checkAgainstReference(t *testing.T, h *Hashed, texts []string) {
	t.Helper()
	ref := refOf(h)
	dense := mustEncode(t, h, texts)
	sparse, err := h.encodeSparse(texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		want := ref.encode(text)
		if !slices.EqualFunc(dense[i], want, sameBits) {
			t.Fatalf("%s: Encode(%q) differs from the reference", h.Name(), text)
		}
		ws := ref.encodeSparse(text)
		if !slices.Equal(sparse[i].idx, ws.idx) || !slices.EqualFunc(sparse[i].val, ws.val, sameBits) {
			t.Fatalf("%s: encodeSparse(%q) = %v %v, reference %v %v", h.Name(), text, sparse[i].idx, sparse[i].val, ws.idx, ws.val)
		}
		counts := make([]float32, h.Dim())
		sc := scratch{track: true}
		h.countInto(text, counts, &sc)
		if want := ref.touched(text); !slices.Equal(sc.touched, want) {
			t.Fatalf("%s: countInto(%q) touched %v, reference %v", h.Name(), text, sc.touched, want)
		}
	}
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// TestHashedMatchesReference: on random texts of tricky pieces, the
// encoder computes what the reference (the encoder before #14's speed
// work) does, to the bit, for every configuration; so does Fit.
func TestHashedMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	texts := append([]string(nil), edgeTexts...)
	texts = append(texts, corpus...)
	for range 3000 {
		texts = append(texts, randomText(rng))
	}
	// Counts around the edges of the tf table (+-512), in every bucket
	// of the small configurations.
	for n := 500; n < 530; n++ {
		texts = append(texts, strings.Repeat(trickyPieces[n%len(trickyPieces)], n))
	}
	for _, cfg := range referenceConfigs {
		h := NewHashed(cfg)
		h.Fit(texts[:1500])
		if h.idf != nil {
			if want := refOf(h).fit(texts[:1500]); !slices.Equal(h.idf, want) {
				t.Fatalf("%s: Fit differs from the reference", h.Name())
			}
		}
		checkAgainstReference(t, h, texts)
	}
}

// FuzzHashedMatchesReference: `go test -fuzz FuzzHashedMatchesReference
// ./pipeline/encode/` looks for a text the two encoders disagree on.
func FuzzHashedMatchesReference(f *testing.F) {
	for _, s := range append(edgeTexts, corpus...) {
		f.Add(s)
	}
	var hs []*Hashed
	for _, cfg := range referenceConfigs {
		h := NewHashed(cfg)
		h.Fit(corpus)
		hs = append(hs, h)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, h := range hs {
			checkAgainstReference(t, h, []string{text})
		}
	})
}
