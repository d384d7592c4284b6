package router

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/routerdc-go/routerdc/pipeline/backend"
)

// The speed-ups of training must not move a number: each is held against
// the code it replaced.

// referenceDropout is inputDropout as it was, drawing through
// rand.Rand.Float64.
func referenceDropout(x []float32, D int, rate float64, rng *rand.Rand) {
	keep := float32(1 / (1 - rate))
	row := make([]float32, D)
	for b := 0; b < len(x)/D; b++ {
		xr := x[b*D : (b+1)*D]
		nonZero := false
		for k, v := range xr {
			row[k] = 0
			if rng.Float64() >= rate {
				row[k] = v * keep
				nonZero = nonZero || v != 0
			}
		}
		if nonZero {
			copy(xr, row)
		}
	}
}

// TestInputDropoutKeepsTheStream: dropout that draws only for the non-zero
// features keeps the same features as one Float64() >= rate per feature,
// for rates with and without an exact binary form, and leaves the stream
// where the old code left it: over dense and sparse rows, rows with no
// non-zero feature, -0 features and zero runs longer than a jump.
func TestInputDropoutKeepsTheStream(t *testing.T) {
	data := rand.New(rand.NewPCG(3, 4))
	negZero := float32(math.Copysign(0, -1))
	for _, c := range []struct {
		D       int
		density float64
	}{{97, 0.25}, {97, 1}, {4096, 0.12}, {3000, 0.001}, {50, 0}} {
		for _, rate := range []float64{0.9, 0.5, 0.1, 1e-9, 0.999999, 0.3333333333333333} {
			const B = 16
			x := make([]float32, B*c.D)
			for i := range x {
				switch r := data.Float64(); {
				case r < c.density:
					x[i] = float32(data.NormFloat64())
				case r < c.density+0.01:
					x[i] = negZero
				}
			}
			want, got := slices.Clone(x), slices.Clone(x)
			ref, src := rand.New(rand.NewPCG(11, 0xd0)), rand.NewPCG(11, 0xd0)
			for range 3 { // consecutive batches share the stream
				referenceDropout(want, c.D, rate, ref)
				rows := make([][]float32, B)
				for b := range rows {
					rows[b] = got[b*c.D : (b+1)*c.D]
				}
				inputDropout(got, c.D, nonZeroIndices(rows), rate, src)
			}
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("D %d, density %g, rate %g: feature %d is %v, want %v", c.D, c.density, rate, i, got[i], want[i])
				}
			}
			if a, b := ref.Uint64(), src.Uint64(); a != b {
				t.Fatalf("D %d, rate %g: the stream moved differently (next draw %d, want %d)", c.D, rate, b, a)
			}
		}
	}
}

// TestUploadedInputsGiveTheSameLogits: logits of rows uploaded once
// (PrepareInputs, for the checkpoint evaluations) equal those of the same
// padded chunks uploaded from host tensors, as Logits did before.
func TestUploadedInputsGiveTheSameLogits(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(1100, 24, 5, 4) // two full chunks of 512 and one padded one
	store := NewStore(1)
	if err := ApplySettings(store, []string{"dim=8"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Forget(store) })
	p, err := PredictorFor(b, store, 5)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]float32
	D := len(ex.X[0])
	for start := 0; start < len(ex.X); start += 512 {
		n := min(512, len(ex.X)-start)
		flat := make([]float32, 512*D)
		for i := 0; i < n; i++ {
			copy(flat[i*D:], ex.X[start+i])
		}
		res, err := p.exec.Exec(tensors.FromFlatDataAndDimensions(flat, 512, D))
		if err != nil {
			t.Fatal(err)
		}
		vals := tensors.MustCopyFlatData[float32](res[0])
		for i := 0; i < n; i++ {
			want = append(want, vals[i*5:(i+1)*5])
		}
	}
	in, err := PrepareInputs(b, ex.X)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Finalize()
	for round := range 2 { // the uploaded rows stay usable
		got, err := p.LogitsOf(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows of logits, want %d", len(got), len(want))
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("round %d, row %d: %v from uploaded rows, %v from host tensors", round, i, got[i], want[i])
			}
		}
	}
	viaLogits, err := p.Logits(ex.X)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !slices.Equal(viaLogits[i], want[i]) {
			t.Fatalf("row %d: Logits gives %v, want %v", i, viaLogits[i], want[i])
		}
	}
}

// TestTrainingWithoutUploadedEvaluationRows: training that uploads its
// evaluation rows once and training that uploads them at every evaluation
// (over the size bound) give the same curve and weights.
func TestTrainingWithoutUploadedEvaluationRows(t *testing.T) {
	b := backend.MustNew()
	ex := synthetic(300, 32, 7, 5)
	monitor := synthetic(90, 32, 7, 6)
	run := func(uploadBytes int64) (*TrainResult, [][]float32) {
		saved := maxEvalUploadBytes
		maxEvalUploadBytes = uploadBytes
		defer func() { maxEvalUploadBytes = saved }()
		store := NewStore(3)
		if err := ApplySettings(store, []string{"steps=40;eval_every=10;dim=16"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { Forget(store) })
		res, err := TrainWith(b, store, ex, ex, nil, Resume{Monitor: monitor})
		if err != nil {
			t.Fatal(err)
		}
		logits, err := Predict(b, store, ex.X, 7)
		if err != nil {
			t.Fatal(err)
		}
		return res, logits
	}
	upRes, upLogits := run(1 << 30)
	hostRes, hostLogits := run(0)
	if !slices.Equal(upRes.Curve, hostRes.Curve) || upRes.BestStep != hostRes.BestStep {
		t.Fatalf("curves differ:\nuploaded once %+v\nper evaluation %+v", upRes.Curve, hostRes.Curve)
	}
	for i := range upLogits {
		if !slices.Equal(upLogits[i], hostLogits[i]) {
			t.Fatalf("row %d: logits %v, want %v", i, upLogits[i], hostLogits[i])
		}
	}
}
