package encode

import (
	"math"
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
