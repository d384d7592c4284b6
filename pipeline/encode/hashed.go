package encode

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// Weighting names accepted by HashedConfig.Weighting.
const (
	// WeightTFIDF: tf term times a smoothed idf fitted with Fit.
	WeightTFIDF = "tfidf"
	// WeightLog: tf term only (no idf, no Fit needed).
	WeightLog = "log"
)

// HashedConfig sets up the Hashed encoder. Zero fields take the defaults of
// DefaultHashedConfig; a negative CharMax (WordMax) switches character
// (word) n-grams off.
type HashedConfig struct {
	// Bits: the vector has 2^Bits buckets (1..24, default 12).
	Bits int `json:"bits"`
	// CharMin..CharMax: character n-gram lengths, counted in runes, over the
	// lowercased text with whitespace runs collapsed to one space (default 1..4).
	CharMin int `json:"char_min"`
	CharMax int `json:"char_max"`
	// WordMin..WordMax: word n-gram lengths (default 1..2). Words are runs of
	// Unicode letters, marks and digits; every Han/Hiragana/Katakana
	// character is a word by itself (as in BERT's basic tokenizer).
	WordMin int `json:"word_min"`
	WordMax int `json:"word_max"`
	// Weighting is WeightTFIDF (default) or WeightLog.
	Weighting string `json:"weighting"`
	// RawTF uses the raw (signed) bucket count as the tf term instead of the
	// sublinear sign(c)*log(1+|c|) (the default).
	RawTF bool `json:"raw_tf,omitempty"`
}

// DefaultHashedConfig returns the defaults: 4096 buckets, char 1..4-grams,
// word 1..2-grams, sublinear tf times idf.
func DefaultHashedConfig() HashedConfig {
	return HashedConfig{Bits: 12, CharMin: 1, CharMax: 4, WordMin: 1, WordMax: 2, Weighting: WeightTFIDF}
}

// withDefaults fills zero fields and validates.
func (c HashedConfig) withDefaults() (HashedConfig, error) {
	d := DefaultHashedConfig()
	if c.Bits == 0 {
		c.Bits = d.Bits
	}
	if c.CharMin == 0 && c.CharMax == 0 {
		c.CharMin, c.CharMax = d.CharMin, d.CharMax
	}
	if c.WordMin == 0 && c.WordMax == 0 {
		c.WordMin, c.WordMax = d.WordMin, d.WordMax
	}
	if c.CharMax < 0 {
		c.CharMin, c.CharMax = 0, -1
	} else if c.CharMin == 0 {
		c.CharMin = 1
	}
	if c.WordMax < 0 {
		c.WordMin, c.WordMax = 0, -1
	} else if c.WordMin == 0 {
		c.WordMin = 1
	}
	if c.Weighting == "" {
		c.Weighting = d.Weighting
	}
	switch {
	case c.Bits < 1 || c.Bits > 24:
		return c, fmt.Errorf("encode: hashed Bits %d outside 1..24", c.Bits)
	case c.CharMax >= 0 && (c.CharMin < 1 || c.CharMin > c.CharMax):
		return c, fmt.Errorf("encode: hashed char n-gram range %d..%d invalid", c.CharMin, c.CharMax)
	case c.WordMax >= 0 && (c.WordMin < 1 || c.WordMin > c.WordMax):
		return c, fmt.Errorf("encode: hashed word n-gram range %d..%d invalid", c.WordMin, c.WordMax)
	case c.CharMax < 0 && c.WordMax < 0:
		return c, errors.New("encode: hashed encoder with neither char nor word n-grams")
	case c.Weighting != WeightTFIDF && c.Weighting != WeightLog:
		return c, fmt.Errorf("encode: hashed Weighting %q, want %q or %q", c.Weighting, WeightTFIDF, WeightLog)
	}
	return c, nil
}

// Hashed is the offline default encoder: signed feature hashing of character
// and word n-grams (FNV-1a 64 plus a fixed 64-bit finaliser, so buckets are
// stable across runs, machines and Go versions), a sublinear tf term, an
// optional smoothed idf, then L2 normalisation. Encode is deterministic and
// runs across GOMAXPROCS goroutines. A Hashed is safe for concurrent Encode
// calls; Fit must not run concurrently with Encode.
type Hashed struct {
	cfg   HashedConfig
	idf   []float64 // len 2^Bits once fitted (tfidf only)
	nDocs int       // documents Fit saw
}

var _ Encoder = (*Hashed)(nil)

// NewHashed returns an unfitted encoder. It panics on an invalid config
// (use HashedConfig values from DefaultHashedConfig or check with Validate).
func NewHashed(cfg HashedConfig) *Hashed {
	c, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	return &Hashed{cfg: c}
}

// Validate reports whether NewHashed would accept the config.
func (c HashedConfig) Validate() error {
	_, err := c.withDefaults()
	return err
}

// Config returns the effective (defaulted) settings.
func (h *Hashed) Config() HashedConfig { return h.cfg }

// Dim is 2^Bits.
func (h *Hashed) Dim() int { return 1 << h.cfg.Bits }

// Fitted reports whether the encoder can Encode (always true for "log").
func (h *Hashed) Fitted() bool { return h.cfg.Weighting != WeightTFIDF || h.idf != nil }

// IDF returns a copy of the fitted idf (nil when not fitted).
func (h *Hashed) IDF() []float64 {
	if h.idf == nil {
		return nil
	}
	return append([]float64(nil), h.idf...)
}

// Name encodes the settings, and for tfidf a fingerprint of the fitted idf,
// e.g. "hashed-b12-c1_4-w1_2-tfidf-idf3f2a9c1d0b7e4a55".
func (h *Hashed) Name() string {
	c := h.cfg
	var b strings.Builder
	fmt.Fprintf(&b, "hashed-b%d", c.Bits)
	if c.CharMax >= 0 {
		fmt.Fprintf(&b, "-c%d_%d", c.CharMin, c.CharMax)
	}
	if c.WordMax >= 0 {
		fmt.Fprintf(&b, "-w%d_%d", c.WordMin, c.WordMax)
	}
	b.WriteString("-" + c.Weighting)
	if c.RawTF {
		b.WriteString("-rawtf")
	}
	if c.Weighting == WeightTFIDF {
		if h.idf == nil {
			b.WriteString("-unfitted")
		} else {
			f := uint64(fnvOffset)
			for _, v := range h.idf {
				bits := math.Float64bits(v)
				for i := 0; i < 8; i++ {
					f = (f ^ (bits & 0xff)) * fnvPrime
					bits >>= 8
				}
			}
			fmt.Fprintf(&b, "-idf%016x", f)
		}
	}
	return b.String()
}

// Fit computes the smoothed idf, ln((1+n)/(1+df)) + 1 per bucket, over texts
// (the training queries). It is a no-op for the "log" weighting.
func (h *Hashed) Fit(texts []string) {
	if h.cfg.Weighting != WeightTFIDF {
		return
	}
	dim := h.Dim()
	workers := workerCount(len(texts))
	parts := make([][]int32, workers)
	parallelChunks(len(texts), workers, func(w, lo, hi int) {
		df := make([]int32, dim)
		counts := make([]float32, dim)
		// Only the touched buckets are visited: at 2^18 buckets a scan of
		// every bucket per text would dominate.
		sc := scratch{track: true}
		for i := lo; i < hi; i++ {
			sc.touched = sc.touched[:0]
			h.countInto(texts[i], counts, &sc)
			for _, b := range sc.touched {
				if counts[b] != 0 {
					df[b]++
					counts[b] = 0
				}
			}
		}
		parts[w] = df
	})
	n := float64(len(texts))
	idf := make([]float64, dim)
	for b := range idf {
		var df int32
		for _, p := range parts {
			df += p[b]
		}
		idf[b] = math.Log((1+n)/(1+float64(df))) + 1
	}
	h.idf, h.nDocs = idf, len(texts)
}

// Encode returns one L2-normalised vector of length Dim per text (a zero
// vector for a text without features). With tfidf weighting it needs Fit
// (or LoadHashed) first.
func (h *Hashed) Encode(texts []string) ([][]float32, error) {
	if !h.Fitted() {
		return nil, errors.New("encode: hashed tfidf encoder used before Fit")
	}
	dim := h.Dim()
	out := make([][]float32, len(texts))
	// One backing array: fewer allocations, rows stay contiguous.
	backing := make([]float32, len(texts)*dim)
	parallelChunks(len(texts), workerCount(len(texts)), func(_, lo, hi int) {
		var sc scratch
		for i := lo; i < hi; i++ {
			v := backing[i*dim : (i+1)*dim : (i+1)*dim]
			h.countInto(texts[i], v, &sc)
			h.weight(v, nil)
			out[i] = v
		}
	})
	return out, nil
}

// sparseRow is one text's non-zero features: buckets and weights.
type sparseRow struct {
	idx []int32
	val []float32
}

// encodeSparse is Encode returning only the non-zero entries: at 2^18
// buckets the dense rows of a training set would take gigabytes.
func (h *Hashed) encodeSparse(texts []string) ([]sparseRow, error) {
	if !h.Fitted() {
		return nil, errors.New("encode: hashed tfidf encoder used before Fit")
	}
	out := make([]sparseRow, len(texts))
	parallelChunks(len(texts), workerCount(len(texts)), func(_, lo, hi int) {
		counts := make([]float32, h.Dim())
		sc := scratch{track: true}
		for i := lo; i < hi; i++ {
			sc.touched = sc.touched[:0]
			h.countInto(texts[i], counts, &sc)
			var r sparseRow
			for _, b := range sc.touched {
				if c := counts[b]; c != 0 {
					r.idx = append(r.idx, b)
					r.val = append(r.val, c)
					counts[b] = 0
				}
			}
			h.weight(r.val, r.idx)
			out[i] = r
		}
	})
	return out, nil
}

// termWeight is bucket b's weight for a signed count c: the tf term
// (sublinear unless RawTF) times the idf when fitted.
func (h *Hashed) termWeight(b int, c float32) float64 {
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

// weight turns signed bucket counts into the final normalised vector.
// With idx, v holds the counts of those buckets only (a sparse row).
func (h *Hashed) weight(v []float32, idx []int32) {
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

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	tagChar   = 'c'
	tagWord   = 'w'
)

// mix64 is the MurmurHash3 fmix64 finaliser: FNV-1a's low bits are weak, so
// the bucket (low bits) and the sign (top bit) come from the mixed value.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func fnvBytes(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// scratch holds per-goroutine buffers.
type scratch struct {
	norm   []byte // lowercased, whitespace-collapsed text
	starts []int  // rune start offsets in norm, plus len(norm)
	words  []string
	// track makes countInto list the buckets it touches (for sparse rows).
	track   bool
	touched []int32
}

// countInto adds the signed hashed n-gram counts of text into counts (which
// must be zero on entry and of length Dim).
func (h *Hashed) countInto(text string, counts []float32, sc *scratch) {
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

	// Normalise: lowercase, collapse whitespace runs, trim.
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
			case isSoloRune(r):
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

// isSoloRune: scripts written without spaces, where each character is a word.
func isSoloRune(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r))
}

// workerCount picks how many goroutines to use for n texts.
func workerCount(n int) int {
	w := runtime.GOMAXPROCS(0)
	if m := n / 64; m < w {
		w = m
	}
	if w < 1 {
		w = 1
	}
	return w
}

// parallelChunks runs fn over [0,n) split into `workers` contiguous chunks.
func parallelChunks(n, workers int, fn func(w, lo, hi int)) {
	if workers <= 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w, lo, hi)
		}()
	}
	wg.Wait()
}

// hashedFile is the on-disk form of a Hashed encoder.
type hashedFile struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Config  HashedConfig `json:"config"`
	NDocs   int          `json:"n_docs,omitempty"`
	IDF     []float64    `json:"idf,omitempty"`
}

const hashedFormat = "routerdc-hashed-encoder"

// Save writes the config and fitted idf as JSON, atomically (temp file in
// the same directory, then rename).
func (h *Hashed) Save(path string) error {
	data, err := json.Marshal(hashedFile{Format: hashedFormat, Version: 1, Config: h.cfg, NDocs: h.nDocs, IDF: h.idf})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// LoadHashed reads an encoder written by Save; it encodes exactly as the
// saved one did.
func LoadHashed(path string) (*Hashed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f hashedFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	if f.Format != hashedFormat || f.Version != 1 {
		return nil, fmt.Errorf("encode: %s: format %q version %d, want %q version 1", path, f.Format, f.Version, hashedFormat)
	}
	cfg, err := f.Config.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	h := &Hashed{cfg: cfg, nDocs: f.NDocs}
	if f.IDF != nil {
		if len(f.IDF) != h.Dim() {
			return nil, fmt.Errorf("encode: %s: idf has %d entries, want %d", path, len(f.IDF), h.Dim())
		}
		h.idf = f.IDF
	}
	return h, nil
}
