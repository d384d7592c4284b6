package router

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	prog "github.com/routerdc-go/routerdc/pipeline/progress"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// Examples are encoded queries with their scores.
type Examples = routers.Examples

// CurvePoint is one checkpoint evaluation.
type CurvePoint struct {
	Step      int     `json:"step"`
	Loss      float64 `json:"loss"` // moving average of the batch loss
	SelectAcc float64 `json:"select_acc"`
	// MonitorAcc is the accuracy on Resume.Monitor (the test sets, for the
	// training-curves figure); it never influences training or selection.
	MonitorAcc float64 `json:"monitor_acc,omitempty"`
}

// TrainResult says what training did. Seconds is the time spent training,
// summed over the runs of a resumed training (replaying finished steps is
// not counted), and StepsPerS is the steps over that time: a run resumed
// after its last step keeps the rate of the run that trained.
type TrainResult struct {
	BestStep  int          `json:"best_step"`
	BestAcc   float64      `json:"best_select_acc"`
	Curve     []CurvePoint `json:"curve"`
	Seconds   float64      `json:"seconds"`
	StepsPerS float64      `json:"steps_per_second"`
	LossEMA   float64      `json:"loss_ema"`
}

// lossEMARate weighs the newest batch in the plotted loss average.
const lossEMARate = 0.05

// TargetScores are what the losses learn from: the raw scores, or with
// target=credit the metric's credit (score > 0 counts 1 on probability tasks).
func TargetScores(p Params, ex *Examples) ([][]float64, error) {
	out := ex.Scores
	if p.Target == "credit" {
		out = creditTargets(ex)
	}
	if p.CostRate == 0 {
		return out, nil
	}
	if len(ex.Costs) != len(ex.Scores) {
		return nil, fmt.Errorf("setting %s=%g: the training data has no costs", ParamCostRate, p.CostRate)
	}
	// After the credit: a penalty applied before it would be rounded away.
	return CostAdjusted(out, ex.Costs, p.CostRate)
}

// creditTargets are the metric's credit: 1 for any score > 0 on
// probability tasks, the score itself elsewhere.
func creditTargets(ex *Examples) [][]float64 {
	out := make([][]float64, len(ex.Scores))
	for i, s := range ex.Scores {
		if !ex.Credit[i] {
			out[i] = s
			continue
		}
		row := make([]float64, len(s))
		for t, v := range s {
			if v > 0 {
				row[t] = 1
			}
		}
		out[i] = row
	}
	return out
}

// Train fits the GoMLX router in store on trainSet, evaluating routing
// accuracy on selectSet every eval_every steps and keeping the best
// checkpoint's weights in the store (the paper picks by training accuracy).
func Train(backend compute.Backend, store *model.Store, trainSet, selectSet *Examples, progress io.Writer) (*TrainResult, error) {
	return TrainWith(backend, store, trainSet, selectSet, progress, Resume{})
}

// TrainWith is Train with a resumable state directory (see Resume).
func TrainWith(backend compute.Backend, store *model.Store, trainSet, selectSet *Examples, progress io.Writer, rs Resume) (*TrainResult, error) {
	p := ReadParams(store)
	kind := graphKindOf(p.Router)
	if kind == nil {
		return nil, fmt.Errorf("router %q is not trained with GoMLX", p.Router)
	}
	if trainSet.Len() < p.BatchSize {
		return nil, fmt.Errorf("training set has %d queries, fewer than batch_size=%d", trainSet.Len(), p.BatchSize)
	}
	T := len(trainSet.Scores[0])
	if err := kind.Check(p.Values, T); err != nil {
		return nil, err
	}
	groups := trainSet.Group
	if p.Group == "task" {
		groups = trainSet.Task
	}
	targets, err := TargetScores(p, trainSet)
	if err != nil {
		return nil, err
	}
	res := &TrainResult{BestStep: -1, BestAcc: -1}
	var best map[string]*tensors.Tensor
	firstStep := 1
	if rs.Dir != "" {
		st, b, ok, err := loadState(rs.Dir, store)
		if err != nil {
			return nil, err
		}
		if ok {
			firstStep, res, best = st.Step+1, st.Res, b
			if progress != nil {
				fmt.Fprintf(progress, "resuming %s training at step %d from %s\n", p.Router, firstStep, rs.Dir)
			}
		}
	}
	if fn, err := encode.GraphOf(p.Values); err != nil {
		return nil, err
	} else if fn != nil {
		p.InputDropout = 0 // the features are token ids
	}
	D := len(trainSet.X[0])
	if err := initVariables(backend, store, T, D); err != nil {
		return nil, err
	}
	st, err := newStepper(backend, store, p, T, D)
	if err != nil {
		return nil, err
	}
	defer st.finalize()
	opt := newAdamW(store, p, st.vars())

	// Batches come from a seeded shuffle, epoch after epoch, so the run is
	// reproducible; a separate stream drives the sample-sample choices.
	rng := rand.New(rand.NewPCG(uint64(p.Seed), 0x5eed))
	ssRng := rand.New(rand.NewPCG(uint64(p.Seed), 0xcafe))
	tieRng := rand.New(rand.NewPCG(uint64(p.Seed), 0x7e5))
	// A bare PCG: inputDropout jumps its state over the zero features.
	dropSrc := rand.NewPCG(uint64(p.Seed), 0xd0)
	perm := rng.Perm(trainSet.Len())
	pos := 0

	bar := prog.NewBar(progress, p.Steps, "training "+p.Router+", step")
	prior := res.Seconds // the earlier runs' training time
	var start time.Time  // the first step trained by this run
	trainedSeconds := func() float64 {
		if start.IsZero() {
			return prior
		}
		return prior + time.Since(start).Seconds()
	}
	rows := SparseRows(trainSet.X)
	batch := &Rows{}
	evals := newEvalInputs(selectSet, rs.Monitor)
	bScores := make([][]float64, p.BatchSize)
	bGroups := make([]int, p.BatchSize)
	for step := 1; step <= p.Steps; step++ {
		batch.reset(D)
		for b := 0; b < p.BatchSize; b++ {
			if pos == len(perm) {
				perm, pos = rng.Perm(trainSet.Len()), 0
			}
			i := perm[pos]
			pos++
			lo, hi := rows.Start[i], rows.Start[i+1]
			batch.Index = append(batch.Index, rows.Index[lo:hi]...)
			batch.Value = append(batch.Value, rows.Value[lo:hi]...)
			batch.Start = append(batch.Start, len(batch.Index))
			bScores[b] = targets[i]
			bGroups[b] = groups[i]
		}
		if p.InputDropout > 0 {
			inputDropout(batch, p.InputDropout, dropSrc)
		}
		l := MakeLabels(p, bScores, bGroups, ssRng, tieRng)
		if step < firstStep {
			// Replaying a finished step: the random streams advance exactly
			// as they did, nothing is trained.
			bar.Add(1)
			continue
		}
		if start.IsZero() {
			start = time.Now()
		}
		loss, grads, err := st.step(batch, l)
		if err == nil {
			err = opt.update(step, grads)
		}
		if err != nil {
			return nil, fmt.Errorf("training step %d: %w", step, err)
		}
		// The curve shows an exponential moving average of the batch loss
		// (one batch is too noisy to plot), kept on the host so a resumed
		// run continues it exactly.
		if step == 1 {
			res.LossEMA = loss
		}
		res.LossEMA += lossEMARate * (loss - res.LossEMA)
		if math.IsNaN(res.LossEMA) || math.IsInf(res.LossEMA, 0) {
			return nil, fmt.Errorf("training diverged at step %d (loss %v); try a lower learning_rate", step, res.LossEMA)
		}
		if step%p.EvalEvery == 0 || step == p.Steps {
			acc, err := evals.accuracy(backend, store, selectSet, evals.selection, T)
			if err != nil {
				return nil, err
			}
			pt := CurvePoint{Step: step, Loss: res.LossEMA, SelectAcc: acc}
			if rs.Monitor != nil {
				if pt.MonitorAcc, err = evals.accuracy(backend, store, rs.Monitor, evals.monitor, T); err != nil {
					return nil, err
				}
			}
			res.Curve = append(res.Curve, pt)
			if acc > res.BestAcc {
				res.BestAcc, res.BestStep = acc, step
				best, err = snapshot(store)
				if err != nil {
					return nil, err
				}
			}
			if rs.Dir != "" {
				res.Seconds = trainedSeconds()
				if err := saveState(rs.Dir, store, step, res, best); err != nil {
					return nil, fmt.Errorf("saving the training state: %w", err)
				}
			}
		}
		if rs.StopAfter > 0 && step == rs.StopAfter {
			return res, ErrStopped
		}
		bar.Add(1)
	}
	bar.Finish()
	res.Seconds = trainedSeconds()
	timed := p.Steps
	if firstStep > 1 && prior == 0 {
		// The state of an older version has no time: this run's rate.
		timed = p.Steps - firstStep + 1
	}
	res.StepsPerS = 0
	if res.Seconds > 0 {
		res.StepsPerS = float64(timed) / res.Seconds
	}
	if err := restore(store, best); err != nil {
		return nil, err
	}
	return res, nil
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// snapshot copies the router's variables to host tensors.
func snapshot(store *model.Store) (map[string]*tensors.Tensor, error) {
	out := map[string]*tensors.Tensor{}
	for v := range store.Scope("/" + ScopeName).IterVariables() {
		val, err := v.Value()
		if err != nil {
			return nil, err
		}
		c, err := val.LocalClone()
		if err != nil {
			return nil, err
		}
		out[v.Path()] = c
	}
	return out, nil
}

func restore(store *model.Store, snap map[string]*tensors.Tensor) error {
	for path, t := range snap {
		v := store.GetVariable(path)
		if v == nil {
			return fmt.Errorf("restoring checkpoint: variable %s vanished", path)
		}
		if err := v.SetValue(t); err != nil {
			return err
		}
	}
	return nil
}

// SelectionAccuracy is the unweighted mean over tasks of the routing
// accuracy on ex: the checkpoint criterion.
func SelectionAccuracy(backend compute.Backend, store *model.Store, ex *Examples, T int) (float64, error) {
	logits, err := Predict(backend, store, ex.X, T)
	if err != nil {
		return 0, err
	}
	return MeanTaskAccuracy(ex, Argmax(logits)), nil
}

// evalInputs are the selection and monitor rows prepared once for the
// checkpoint evaluations.
type evalInputs struct {
	selection, monitor *Inputs
}

func newEvalInputs(selectSet, monitor *Examples) *evalInputs {
	e := &evalInputs{}
	if selectSet != nil {
		e.selection = PrepareInputs(selectSet.X)
	}
	if monitor != nil {
		e.monitor = PrepareInputs(monitor.X)
	}
	return e
}

// accuracy is SelectionAccuracy on ex from its prepared rows.
func (e *evalInputs) accuracy(backend compute.Backend, store *model.Store, ex *Examples, in *Inputs, T int) (float64, error) {
	p, err := PredictorFor(backend, store, T)
	if err != nil {
		return 0, err
	}
	logits, err := p.LogitsOf(in)
	if err != nil {
		return 0, err
	}
	return MeanTaskAccuracy(ex, Argmax(logits)), nil
}

// TaskAccuracies returns the routing accuracy (100 x mean credit) per task
// id, indexed by task id (NaN for ids without queries).
func TaskAccuracies(ex *Examples, picks []int) []float64 {
	var sum []float64
	var cnt []int
	for i, t := range picks {
		s := ex.Scores[i][t]
		c := s
		if ex.Credit[i] {
			c = 0
			if s > 0 {
				c = 1
			}
		}
		for len(sum) <= ex.Task[i] {
			sum, cnt = append(sum, 0), append(cnt, 0)
		}
		sum[ex.Task[i]] += c
		cnt[ex.Task[i]]++
	}
	out := make([]float64, len(sum))
	for task := range sum {
		out[task] = math.NaN()
		if cnt[task] > 0 {
			out[task] = 100 * sum[task] / float64(cnt[task])
		}
	}
	return out
}

// MeanTaskAccuracy averages per-task accuracies in task order (a fixed
// summation order keeps checkpoint choices bit-reproducible).
func MeanTaskAccuracy(ex *Examples, picks []int) float64 {
	var acc float64
	var n int
	for _, a := range TaskAccuracies(ex, picks) {
		if !math.IsNaN(a) {
			acc += a
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return acc / float64(n)
}

// Argmax of each row; ties go to the first LLM in file order.
func Argmax[F float32 | float64](rows [][]F) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		for t := range r {
			if r[t] > r[out[i]] {
				out[i] = t
			}
		}
	}
	return out
}
