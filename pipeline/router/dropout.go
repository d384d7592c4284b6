package router

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
)

// inputDropout drops each feature of the batch rows x with probability
// rate and scales the kept ones by 1/(1-rate), on the host from a seeded
// stream (reproducible runs); dropped features leave the rows. A row that
// would lose every non-zero feature is left whole: an all-zero input gives
// a zero embedding at the start of training, whose L2 normalisation has a
// NaN gradient.
//
// Each of a row's D features owns one draw of src, in order, and is kept
// when rand.Rand.Float64() of it is >= rate. A feature that is not listed
// is +0 whether kept or not, so only the listed features' draws are
// computed: the generator jumps over the others, and src ends where one
// draw per feature leaves it.
func inputDropout(x *Rows, rate float64, src *rand.PCG) {
	keep := float32(1 / (1 - rate))
	// Float64 is the low 53 bits of a draw over 2^53: the same test on the
	// integers against rate*2^53 rounded up (both sides exact).
	const low53 = 1<<53 - 1
	threshold := uint64(math.Ceil(rate * (1 << 53)))
	jumps := pcgJumps()
	s := loadPCG(src)
	var kept []bool
	out := 0 // rows are compacted in place: row r's kept features go to out...
	for r := 0; r < x.Len(); r++ {
		lo, hi := x.Start[r], x.Start[r+1]
		x.Start[r] = out
		kept = slices.Grow(kept[:0], hi-lo)[:hi-lo]
		nonZero := false
		next := 0 // the feature whose draw s produces next
		for a := range kept {
			k := int(x.Index[lo+a])
			s = s.skip(k-next, jumps)
			s = pcgStep.apply(s)
			next = k + 1
			kept[a] = s.output()&low53 >= threshold
			// -0 is listed (a kept -0 stays -0) but is no non-zero feature.
			nonZero = nonZero || (kept[a] && x.Value[lo+a] != 0)
		}
		s = s.skip(x.D-next, jumps)
		for a, k := range kept {
			if k || !nonZero {
				v := x.Value[lo+a]
				if nonZero {
					v *= keep
				}
				x.Index[out], x.Value[out] = x.Index[lo+a], v
				out++
			}
		}
	}
	x.Start[x.Len()] = out
	x.Index, x.Value = x.Index[:out], x.Value[:out]
	storePCG(src, s)
}

// pcgState is math/rand/v2's PCG state: a 128-bit LCG whose output is the
// DXSM mix of the state after each step (see its pcg.go).
type pcgState struct{ hi, lo uint64 }

// output is PCG.Uint64's mix of a stepped state.
func (s pcgState) output() uint64 {
	const cheapMul = 0xda942042e4dd58b5
	hi := s.hi
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	hi *= s.lo | 1
	return hi
}

// affine128 maps a state s to s*mul + add modulo 2^128.
type affine128 struct{ mulHi, mulLo, addHi, addLo uint64 }

// pcgStep is PCG's step: its multiplier and increment.
var pcgStep = affine128{2549297995355413924, 4865540595714422341, 6364136223846793005, 1442695040888963407}

func (a affine128) apply(s pcgState) pcgState {
	hi, lo := bits.Mul64(s.lo, a.mulLo)
	hi += s.hi*a.mulLo + s.lo*a.mulHi
	lo, c := bits.Add64(lo, a.addLo, 0)
	hi, _ = bits.Add64(hi, a.addHi, c)
	return pcgState{hi, lo}
}

// then is a followed by b.
func (a affine128) then(b affine128) affine128 {
	mulHi, mulLo := bits.Mul64(a.mulLo, b.mulLo)
	mulHi += a.mulHi*b.mulLo + a.mulLo*b.mulHi
	add := b.apply(pcgState{a.addHi, a.addLo})
	return affine128{mulHi, mulLo, add.hi, add.lo}
}

// maxJump is the longest jump in the table; longer ones are chained.
const maxJump = 1024

// pcgJumps[n] is n PCG steps in one.
var pcgJumps = sync.OnceValue(func() []affine128 {
	j := make([]affine128, maxJump+1)
	j[0] = affine128{mulLo: 1} // identity
	for n := 1; n <= maxJump; n++ {
		j[n] = j[n-1].then(pcgStep)
	}
	return j
})

// skip advances s by n steps (n >= 0) with the table j of pcgJumps.
func (s pcgState) skip(n int, j []affine128) pcgState {
	if n == 0 {
		return s
	}
	for ; n > maxJump; n -= maxJump {
		s = j[maxJump].apply(s)
	}
	return j[n].apply(s)
}

// loadPCG and storePCG move the state through PCG's binary form
// ("pcg:", then hi and lo big-endian).
func loadPCG(src *rand.PCG) pcgState {
	b, err := src.MarshalBinary()
	if err != nil || len(b) != 20 {
		panic(fmt.Sprintf("router: unexpected PCG encoding %q (%v)", b, err))
	}
	return pcgState{binary.BigEndian.Uint64(b[4:12]), binary.BigEndian.Uint64(b[12:20])}
}

func storePCG(src *rand.PCG, s pcgState) {
	b := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte("pcg:"), s.hi), s.lo)
	if err := src.UnmarshalBinary(b); err != nil {
		panic(fmt.Sprintf("router: restoring the PCG state: %v", err))
	}
}
