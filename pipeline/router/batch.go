package router

import (
	"math"
	"math/rand/v2"
	"sort"
)

// BatchLabels are the host-computed loss inputs of one batch, flat row-major
// float32 slices in the order of the Label* constants.
type BatchLabels struct {
	B, T, KPos int
	PosOneHot  []float32 // [B, KPos, T]
	PosMask    []float32 // [B, KPos]
	NegMask    []float32 // [B, T]
	SSPos      []float32 // [B, B]
	SSNeg      []float32 // [B, B]
	SSValid    []float32 // [B]
	Target     []float32 // [B, T]
}

// SortDesc returns the LLM indices ordered by score, best first. Ties are
// broken at random when rng is given (else by file order): with tied scores
// (several LLMs right on a multiple-choice query) a fixed order would always
// make the first LLMs of the file the positives and bias the router to them.
func SortDesc(scores []float64, rng *rand.Rand) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	if rng != nil {
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}

// MakeLabels computes every loss input for a batch: scores[b][t] are the
// training targets, groups[b] the sample-sample group ids. rng drives the
// in-batch positive/negative choice of the sample-sample loss; tieRng breaks
// ties in the LLM ranking (nil: file order).
func MakeLabels(p Params, scores [][]float64, groups []int, rng, tieRng *rand.Rand) BatchLabels {
	B, T := len(scores), len(scores[0])
	kPos := min(p.KPos, T)
	kNeg := min(p.KNeg, T)
	l := BatchLabels{
		B: B, T: T, KPos: kPos,
		PosOneHot: make([]float32, B*kPos*T),
		PosMask:   make([]float32, B*kPos),
		NegMask:   make([]float32, B*T),
		SSPos:     make([]float32, B*B),
		SSNeg:     make([]float32, B*B),
		SSValid:   make([]float32, B),
		Target:    make([]float32, B*T),
	}
	for b, s := range scores {
		order := SortDesc(s, tieRng)
		for i := 0; i < kPos; i++ {
			t := order[i]
			l.PosOneHot[(b*kPos+i)*T+t] = 1
			if s[t] > 0 {
				l.PosMask[b*kPos+i] = 1
			}
		}
		for _, t := range order[T-kNeg:] {
			if s[t] <= p.NegThreshold {
				l.NegMask[b*T+t] = 1
			}
		}
		target := targetRow(p, s, tieRng)
		for t, v := range target {
			l.Target[b*T+t] = float32(v)
		}
	}
	sampleSample(p.H, groups, rng, &l)
	return l
}

// targetRow is the CosineClassifier's one-hot argmax, or ZOOTER's
// softmax(scores / zooter_temp).
func targetRow(p Params, s []float64, rng *rand.Rand) []float64 {
	out := make([]float64, len(s))
	if k := graphKindOf(p.Router); k != nil && k.oneHot {
		out[SortDesc(s, rng)[0]] = 1
		return out
	}
	maxS := math.Inf(-1)
	for _, v := range s {
		maxS = max(maxS, v)
	}
	var z float64
	for t, v := range s {
		out[t] = math.Exp((v - maxS) / p.ZooterTemp)
		z += out[t]
	}
	for t := range out {
		out[t] /= z
	}
	return out
}

// sampleSample picks, per row, one in-batch query of the same group (the
// official code may pick the row itself) and H of other groups.
func sampleSample(h int, groups []int, rng *rand.Rand, l *BatchLabels) {
	B := l.B
	same := make([]int, 0, B)
	other := make([]int, 0, B)
	for i := 0; i < B; i++ {
		same, other = same[:0], other[:0]
		for j := 0; j < B; j++ {
			if groups[j] == groups[i] {
				same = append(same, j)
			} else {
				other = append(other, j)
			}
		}
		if len(other) == 0 {
			continue
		}
		l.SSValid[i] = 1
		l.SSPos[i*B+same[rng.IntN(len(same))]] = 1
		rng.Shuffle(len(other), func(a, b int) { other[a], other[b] = other[b], other[a] })
		for _, j := range other[:min(h, len(other))] {
			l.SSNeg[i*B+j] = 1
		}
	}
}
