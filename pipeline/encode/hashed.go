package encode

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mathbits "math/bits"
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
	// Rows are allocated a block at a time, each block just before it is
	// filled: zeroed then written while in cache, where one backing array
	// for the whole batch would be zeroed out to memory and read back.
	blockRows := max(1, encodeBlock/dim)
	parallelChunks(len(texts), workerCount(len(texts)), func(_, lo, hi int) {
		sc := getScratch(dim)
		defer scratchPool.Put(sc)
		var block []float32
		for i := lo; i < hi; i++ {
			if len(block) == 0 {
				block = make([]float32, min(blockRows, hi-i)*dim)
			}
			v := block[:dim:dim]
			block = block[dim:]
			h.countInto(texts[i], sc.counts, sc)
			h.weighSeen(sc)
			for k, b := range sc.nonZero {
				v[b] = sc.vals[k]
			}
			out[i] = v
		}
	})
	return out, nil
}

// encodeBlock is how many values Encode allocates at a time (256 KiB, a
// part of a core's L2 cache).
const encodeBlock = 64 << 10

// scratchPool keeps countInto's buffers between Encode calls: one query
// at a time would otherwise allocate them for every query.
var scratchPool sync.Pool

// getScratch returns an untracking scratch whose counts and seen bitmap
// fit dim buckets (and are all zero).
func getScratch(dim int) *scratch {
	sc, _ := scratchPool.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	if len(sc.counts) != dim {
		sc.counts = make([]float32, dim)
		sc.seen = make([]uint64, max(dim/64, 1))
	}
	return sc
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
		t = sublinearTF(c)
	}
	if h.idf != nil {
		t *= h.idf[b]
	}
	return t
}

// sublinearTF is sign(c)*log(1+|c|).
func sublinearTF(c float32) float64 {
	if t, ok := smallTF(c); ok {
		return t
	}
	return sublinear(float64(c))
}

// smallTF is sublinearTF for the counts of signedLog1p's table: counts are
// whole and mostly small, and the table holds math.Log1p's own values, so
// the result is the same to the bit.
func smallTF(c float32) (float64, bool) {
	k := int(c)
	if float32(k) != c || uint(k+log1pTableSize) >= uint(len(signedLog1p)) {
		return 0, false
	}
	return signedLog1p[k+log1pTableSize], true
}

// sublinear is sign(t)*log(1+|t|).
func sublinear(t float64) float64 {
	if t > 0 {
		return math.Log1p(t)
	}
	return -math.Log1p(-t)
}

const log1pTableSize = 512

// signedLog1p[log1pTableSize+k] is the sublinear tf term of count k,
// sign(k)*math.Log1p(|k|), for |k| <= log1pTableSize.
var signedLog1p = func() (t [2*log1pTableSize + 1]float64) {
	for k := 1; k <= log1pTableSize; k++ {
		t[log1pTableSize+k] = math.Log1p(float64(k))
		t[log1pTableSize-k] = -math.Log1p(float64(k))
	}
	return t
}()

// weighSeen is weight for a text countInto counted, without tracking,
// into sc.counts: it leaves the normalised vector's non-zero buckets and
// values in sc.nonZero and sc.vals, and sc.counts and sc.seen zero for the
// next text. It visits only the buckets marked in sc.seen, in increasing
// order as weight's scan of every bucket does (the sum of squares, so the
// result, depends on that order). Counting in sc.counts, which stays in
// cache from text to text, rather than in a row of a batch just allocated,
// saves a cache miss for most buckets.
func (h *Hashed) weighSeen(sc *scratch) {
	counts, nz, vals := sc.counts, sc.nonZero[:0], sc.vals[:0]
	rawTF, idf := h.cfg.RawTF, h.idf
	var ss float64
	for w, bits := range sc.seen {
		if bits == 0 {
			continue
		}
		sc.seen[w] = 0
		for ; bits != 0; bits &= bits - 1 {
			b := w<<6 + mathbits.TrailingZeros64(bits)
			c := counts[b]
			if c == 0 {
				continue
			}
			counts[b] = 0
			// termWeight, with its common case inlined.
			t, small := smallTF(c)
			if rawTF || !small {
				t = h.termWeight(b, c)
			} else if idf != nil {
				t *= idf[b]
			}
			nz, vals = append(nz, int32(b)), append(vals, float32(t))
			ss += t * t
		}
	}
	sc.nonZero, sc.vals = nz, vals
	if ss == 0 {
		return
	}
	inv := 1 / math.Sqrt(ss)
	for i, t := range vals {
		vals[i] = float32(float64(t) * inv)
	}
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

// Hash states after the kind tag, where every n-gram's hash starts.
var charSeed, wordSeed = fnvBytes(fnvOffset, string(rune(tagChar))), fnvBytes(fnvOffset, string(rune(tagWord)))

// signOf is the count step for a mixed hash's top bit.
var signOf = [2]float32{1, -1}

// asciiSpace marks the bytes below 0x80 that unicode.IsSpace accepts.
var asciiSpace = [128]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// asciiWord marks the bytes below 0x80 that are letters or digits (the
// lowercased text has no upper-case ASCII letters).
var asciiWord = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	return t
}()

// scratch holds per-goroutine buffers.
type scratch struct {
	norm   []byte // lowercased, whitespace-collapsed text
	starts []int  // rune start offsets in norm, plus len(norm)
	words  []int  // start and end offsets in norm of each word
	// track makes countInto list the buckets it touches (for sparse rows),
	// once per n-gram, in the order met; without it countInto marks them
	// in seen, a bitmap the caller must clear (weightDense does).
	track   bool
	touched []int32
	seen    []uint64
	// Encode's: counts of the text, and weightDense's non-zero buckets
	// and their weights before normalisation.
	counts  []float32
	nonZero []int32
	vals    []float32
}

// countInto adds the signed hashed n-gram counts of text into counts (which
// must be zero on entry and of length Dim).
func (h *Hashed) countInto(text string, counts []float32, sc *scratch) {
	c := h.cfg
	mask := uint64(len(counts) - 1)
	track, touched, seen := sc.track, sc.touched, sc.seen
	add := func(x uint64) {
		m := mix64(x)
		b := m & mask
		if track {
			touched = append(touched, int32(b))
		} else {
			seen[b>>6] |= 1 << (b & 63)
		}
		counts[b] += signOf[m>>63]
	}

	norm, ascii := normalize(sc.norm[:0], text)
	sc.norm = norm

	if c.CharMax >= 1 {
		if ascii { // a rune per byte
			nr := len(norm)
			for i := 0; i < nr; i++ {
				x := charSeed
				for n := 1; n <= c.CharMax && i+n <= nr; n++ {
					x = (x ^ uint64(norm[i+n-1])) * fnvPrime
					if n >= c.CharMin {
						add(x)
					}
				}
			}
		} else {
			starts := sc.starts[:0]
			for i := range string(norm) {
				starts = append(starts, i)
			}
			nr := len(starts)
			starts = append(starts, len(norm))
			sc.starts = starts
			for i := 0; i < nr; i++ {
				x := charSeed
				for n := 1; n <= c.CharMax && i+n <= nr; n++ {
					for _, b := range norm[starts[i+n-1]:starts[i+n]] {
						x = (x ^ uint64(b)) * fnvPrime
					}
					if n >= c.CharMin {
						add(x)
					}
				}
			}
		}
	}

	if c.WordMax >= 1 {
		words := splitWords(sc.words[:0], norm)
		sc.words = words
		nw := len(words) / 2
		for i := 0; i < nw; i++ {
			x := wordSeed
			for n := 1; n <= c.WordMax && i+n <= nw; n++ {
				if n > 1 {
					x = (x ^ ' ') * fnvPrime
				}
				for _, b := range norm[words[2*(i+n-1)]:words[2*(i+n-1)+1]] {
					x = (x ^ uint64(b)) * fnvPrime
				}
				if n >= c.WordMin {
					add(x)
				}
			}
		}
	}
	sc.touched = touched
}

// normalize appends text to norm lowercased (unicode.ToLower per rune;
// invalid UTF-8 bytes become U+FFFD), whitespace runs (unicode.IsSpace)
// collapsed to one space and trimmed; ascii says whether every rune
// appended is ASCII. ASCII bytes, nearly all of most questions, skip the
// rune decoding and the Unicode tables.
func normalize(norm []byte, text string) (_ []byte, ascii bool) {
	ascii = true
	space := false
	for i := 0; i < len(text); {
		b := text[i]
		if b < utf8.RuneSelf {
			i++
			if asciiSpace[b] {
				space = len(norm) > 0
				continue
			}
			if space {
				norm = append(norm, ' ')
				space = false
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			norm = append(norm, b)
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if unicode.IsSpace(r) {
			space = len(norm) > 0
			continue
		}
		if space {
			norm = append(norm, ' ')
			space = false
		}
		r = unicode.ToLower(r)
		ascii = ascii && r < utf8.RuneSelf
		norm = utf8.AppendRune(norm, r)
	}
	return norm, ascii
}

// splitWords appends the start and end offsets of norm's words: runs of
// letters, digits and marks, and every Han/Hiragana/Katakana character by
// itself.
func splitWords(words []int, norm []byte) []int {
	start := -1
	for i := 0; i < len(norm); {
		b := norm[i]
		var word, solo bool
		size := 1
		if b < utf8.RuneSelf {
			word = asciiWord[b]
		} else {
			var r rune
			r, size = utf8.DecodeRune(norm[i:])
			solo = isSoloRune(r)
			word = !solo && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
		}
		switch {
		case solo:
			if start >= 0 {
				words = append(words, start, i)
				start = -1
			}
			words = append(words, i, i+size)
		case word:
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				words = append(words, start, i)
				start = -1
			}
		}
		i += size
	}
	if start >= 0 {
		words = append(words, start, len(norm))
	}
	return words
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
