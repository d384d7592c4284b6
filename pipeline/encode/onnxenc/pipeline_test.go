package onnxenc_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/encode/onnxenc"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// trainTiny trains a router on 20 released queries per task with the tiny
// test model as its encoder.
func trainTiny(t *testing.T, set string) *routerdir.Router {
	t.Helper()
	col := datatest.RequireBuiltin(t)
	dir, err := filepath.Abs("testdata/tiny_bert")
	if err != nil {
		t.Fatal(err)
	}
	store := router.NewStore(1)
	if err := router.ApplySettings(store, []string{"encoder=onnx;encoder_path=" + dir +
		";samples_per_task=20;batch_size=16;dim=16;group=cluster;" + set}); err != nil {
		t.Fatal(err)
	}
	r, err := train.Run(col, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var queries = []string{"What is 12 times 7?", "Write a python function that reverses a list.", "Which planet is largest?"}

// roundTrip saves and reloads r, checking the loaded router scores alike.
func roundTrip(t *testing.T, r *routerdir.Router) *routerdir.Router {
	t.Helper()
	before, err := r.Scores(queries)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "router")
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	l, err := routerdir.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, err := l.Scores(queries)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		for j := range before[i] {
			if math.IsNaN(before[i][j]) || math.Abs(before[i][j]-after[i][j]) > 1e-5 {
				t.Fatalf("query %d LLM %d: score %g before saving, %g after loading", i, j, before[i][j], after[i][j])
			}
		}
	}
	return l
}

func TestFrozenEncoderTrainsARouter(t *testing.T) {
	r := trainTiny(t, "steps=20;eval_every=10")
	if !strings.HasPrefix(r.Meta.Encoder, "onnx-") || r.Encoder.Dim() != 32 {
		t.Fatalf("router encoder %s of dim %d, want the onnx encoder's 32 features", r.Meta.Encoder, r.Encoder.Dim())
	}
	g := r.Model.(*router.GraphModel)
	for v := range g.Store.Scope("/").IterVariables() {
		if strings.Contains(v.Path(), "/"+router.EncoderScope+"/") {
			t.Fatalf("frozen encoder has a variable in the router: %s", v.Path())
		}
	}
	roundTrip(t, r)
}

// encoderWeight is a query weight of the first layer in the router's store.
const encoderWeight = "/" + router.ScopeName + "/" + router.EncoderScope + "/ONNX/encoder.layer.0.attention.self.query.weight"

func weight(t *testing.T, s *model.Store, path string) []float32 {
	t.Helper()
	v := s.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	out, err := val.LocalClone()
	if err != nil {
		t.Fatal(err)
	}
	return out.Value().([][]float32)[0]
}

func TestFineTunedEncoderTrainsItsWeights(t *testing.T) {
	const steps = 4
	r := trainTiny(t, "encoder_train=true;steps=4;eval_every=2;learning_rate=5e-3")
	g := r.Model.(*router.GraphModel)
	if g.Result.BestStep < 1 {
		t.Fatalf("best step %d", g.Result.BestStep)
	}
	// The untrained weights, from a frozen encoder's store.
	orig := router.NewStore(1)
	if err := onnxenc.LoadWeights(filepath.Join("testdata/tiny_bert"), orig.Scope("/"+router.ScopeName).At(router.EncoderScope)); err != nil {
		t.Fatal(err)
	}
	a, b := weight(t, orig, encoderWeight), weight(t, g.Store, encoderWeight)
	var moved float64
	for i := range a {
		moved = math.Max(moved, math.Abs(float64(a[i]-b[i])))
	}
	// Adam moves a weight by at most about its learning rate per step:
	// the encoder's is 5e-5, the head's 5e-3.
	if moved == 0 || moved > steps*5e-5*1.5 {
		t.Errorf("fine-tuning moved the encoder's weights by up to %g, want within (0, %g] (encoder_learning_rate 5e-5 over %d steps)", moved, steps*5e-5*1.5, steps)
	}
	t.Logf("encoder weights moved by up to %.3g in %d steps (best step %d)", moved, steps, g.Result.BestStep)
	l := roundTrip(t, r)
	if w := weight(t, l.Model.(*router.GraphModel).Store, encoderWeight); w[3] != b[3] {
		t.Errorf("loaded router's encoder weight %g, trained %g", w[3], b[3])
	}
}
