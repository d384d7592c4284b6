package router

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

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
				x := SparseRows(rows)
				inputDropout(x, rate, src)
				x.DenseInto(got)
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

// sparse is ex with each feature zeroed with probability 1-density.
func sparse(ex *Examples, density float64, seed uint64) *Examples {
	rng := rand.New(rand.NewPCG(seed, 9))
	out := *ex
	out.X = make([][]float32, len(ex.X))
	for i, r := range ex.X {
		out.X[i] = slices.Clone(r)
		for k := range r {
			if rng.Float64() >= density && k >= 4 { // the task's feature stays
				out.X[i][k] = 0
			}
		}
	}
	return &out
}

// wholeGraphLogits are the logits of the model run whole in the graph
// (lead layer included, as a dense product).
func wholeGraphLogits(t *testing.T, store *model.Store, x [][]float32, T int) [][]float32 {
	t.Helper()
	exec, err := model.NewExec(backend.MustNew(), store, func(scope *model.Scope, x *Node) *Node {
		logits, _ := Logits(scope.In(ScopeName), x, T)
		return logits
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	D := len(x[0])
	flat := make([]float32, 0, len(x)*D)
	for _, r := range x {
		flat = append(flat, r...)
	}
	res, err := exec.Exec(tensors.FromFlatDataAndDimensions(flat, len(x), D))
	if err != nil {
		t.Fatal(err)
	}
	vals := tensors.MustCopyFlatData[float32](res[0])
	out := make([][]float32, len(x))
	for i := range out {
		out[i] = vals[i*T : (i+1)*T]
	}
	return out
}

// TestHostLeadLayerGivesTheGraphsLogits: inference with the lead layer on
// the host (sparse rows) gives the logits of the model run whole in the
// graph, with and without hidden layers, for sparse and dense features.
func TestHostLeadLayerGivesTheGraphsLogits(t *testing.T) {
	b := backend.MustNew()
	for _, c := range []struct {
		settings string
		density  float64
	}{{"dim=8", 0.1}, {"dim=8", 1}, {"dim=16;hidden_layers=2;activation=gelu", 0.1}} {
		ex := sparse(synthetic(600, 64, 5, 4), c.density, 2) // a full chunk of 512 and a padded one
		store := NewStore(1)
		if err := ApplySettings(store, []string{c.settings + ";steps=30;eval_every=10"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { Forget(store) })
		if _, err := TrainWith(b, store, ex, ex, nil, Resume{}); err != nil {
			t.Fatal(err)
		}
		got, err := Predict(b, store, ex.X, 5)
		if err != nil {
			t.Fatal(err)
		}
		want := wholeGraphLogits(t, store, ex.X, 5)
		for i := range want {
			for j := range want[i] {
				if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-5 {
					t.Fatalf("%s, density %g: row %d logit %d is %v on the host, %v in the graph", c.settings, c.density, i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}

// TestHostHeadGradients: the loss and gradients of a step of the host
// head equal those of the model differentiated in the graph (GoMLX's
// automatic differentiation of Logits and LossFn), for each kind, both
// similarities, a temperature and the sample-sample loss on and off.
func TestHostHeadGradients(t *testing.T) {
	b := backend.MustNew()
	for _, settings := range []string{
		"dim=8", "dim=8;lambda=0", "dim=16;similarity=inner;temperature=0.5", "dim=8;lambda=2;temperature=0.2;h=5",
		"router=zooter;dim=8", "router=cosine;dim=8;baseline_lambda=0.5", "router=zooter;dim=8;similarity=inner;baseline_lambda=1",
	} {
		ex := sparse(synthetic(64, 48, 5, 7), 0.2, 3)
		store := NewStore(2)
		if err := ApplySettings(store, []string{settings + ";batch_size=16"}); err != nil {
			t.Fatal(err)
		}
		p := ReadParams(store)
		if err := initVariables(b, store, 5, 48); err != nil {
			t.Fatal(err)
		}
		l := MakeLabels(p, ex.Scores[:16], ex.Group[:16], rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(3, 4)))
		rows := SparseRows(ex.X[:16])
		var vars []*model.Variable
		for v := range store.Scope("/" + ScopeName).IterVariables() {
			vars = append(vars, v)
		}
		slices.SortFunc(vars, func(a, b *model.Variable) int { return strings.Compare(a.Path(), b.Path()) })
		whole, err := newStepGraph(b, store, 5, vars)
		if err != nil {
			t.Fatal(err)
		}
		graphSt := &graphStepper{g: whole}
		wLoss, wGrads, err := graphSt.step(rows, l)
		graphSt.finalize()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]float32{}
		for i, v := range vars {
			want[v.Path()] = wGrads[i]
		}
		hostSt, err := newStepper(b, store, p, 5, 48)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := hostSt.(*hostStepper); !ok {
			t.Fatalf("%s: the host head does not cover it", settings)
		}
		hLoss, hGrads, err := hostSt.step(rows, l)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(wLoss-hLoss) > 1e-5*max(1, math.Abs(wLoss)) {
			t.Fatalf("%s: loss %v on the host, %v in the graph", settings, hLoss, wLoss)
		}
		if len(hostSt.vars()) != len(want) {
			t.Fatalf("%s: gradients of %d variables, want %d", settings, len(hostSt.vars()), len(want))
		}
		for i, v := range hostSt.vars() {
			w, g := want[v.Path()], hGrads[i]
			if len(g) != len(w) {
				t.Fatalf("%s: %s has %d gradient values, want %d", settings, v.Path(), len(g), len(w))
			}
			var scale float64
			for _, x := range w {
				scale = max(scale, math.Abs(float64(x)))
			}
			for k := range w {
				if d := math.Abs(float64(g[k] - w[k])); d > 1e-4*scale+1e-7 {
					t.Fatalf("%s: gradient of %s[%d] is %v on the host, %v in the graph", settings, v.Path(), k, g[k], w[k])
				}
			}
		}
	}
}
