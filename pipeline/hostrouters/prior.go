package hostrouters

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/routerdc-go/routerdc/pipeline/parallel"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// Keys of the task prior's own settings.
const (
	SettingPriorLambda = "prior_lambda"
	SettingPriorIters  = "prior_iters"
	SettingPriorAlpha  = "prior_alpha"
	SettingPriorPower  = "prior_power"
	SettingPriorTemp   = "prior_task_temp"
)

func init() {
	register(hostKind{name: "prior", fileKind: kindPrior, settings: []routers.Setting{
		settingKNN,
		routers.Float(SettingPriorLambda, 0.01, routers.Ours, "> 0: per-task logistic regressions with this L2 weight; 0: shrunk kNN", routers.AtLeast(0.0)),
		routers.Int(SettingPriorIters, 200, routers.Ours, "logistic regression steps", routers.AtLeast(1)),
		routers.Float(SettingPriorAlpha, 10.0, routers.Ours, "kNN mode: pseudo-count of the task prior", routers.Above(0.0)),
		routers.Float(SettingPriorPower, 1.0, routers.Ours, "kNN mode: neighbour weight = max(cos,0)^power", routers.Above(0.0)),
		routers.Float(SettingPriorTemp, 0.0, routers.Ours, "task posterior softmax temperature (0: nearest centroid)", routers.AtLeast(0.0)),
	},
		empty: func() Router { return &TaskPrior{} },
		fit: func(v routers.Values, _ int64) Router {
			return &TaskPrior{K: v.Int(SettingKNN), Alpha: v.Float(SettingPriorAlpha), TaskTemp: v.Float(SettingPriorTemp),
				Power: v.Float(SettingPriorPower), Lambda: v.Float(SettingPriorLambda), Iters: v.Int(SettingPriorIters)}
		}})
}

const kindPrior = "task_prior"

// Defaults of TaskPrior's settings (used when a field is <= 0).
const (
	DefaultPriorK     = 50
	DefaultPriorAlpha = 10.0
)

// TaskPrior ("our best router") puts query-level evidence on top of the
// task prior. Training rows are grouped by task; each task has a unit
// centroid (as TaskLevel) and a prior: its mean training target per LLM.
// A query q gets
//
//	a task posterior  pi_t(q) = softmax_t(cos(q, centroid_t) / TaskTemp)
//	                  (one-hot on the nearest centroid when TaskTemp <= 0),
//	per task t        est_t(q) = (sum_{i in N_t(q)} w_i y_i + Alpha prior_t)
//	                             / (sum_{i in N_t(q)} w_i + Alpha),
//	and the value     sum_t pi_t(q) est_t(q),
//
// where N_t(q) are q's K most cosine-similar training rows of task t,
// w_i = max(cos(q, x_i), 0)^Power and y_i their targets: Bayesian shrinkage
// of the within-task kNN estimate towards the task prior, Alpha being the
// prior's pseudo-count in similarity-weight units. Tasks with pi_t below
// 1e-4 are skipped (their weight goes to the others). Out-of-distribution
// queries are routed through the training tasks they resemble.
//
// With Global set, neighbours come from all tasks and are shrunk towards
// the posterior-mixed prior sum_t pi_t prior_t instead.
//
// Each query costs one similarity pass over the training rows plus one
// over the task centroids.
type TaskPrior struct {
	K        int     // neighbours per task (DefaultPriorK when 0; < 0: none, the task prior alone)
	Alpha    float64 // prior pseudo-count (DefaultPriorAlpha when <= 0)
	TaskTemp float64 // task posterior temperature; <= 0: hard nearest centroid
	Power    float64 // neighbour weight exponent (1 when <= 0)
	Global   bool    // neighbours from all tasks, shrunk to the mixed prior
	// Lambda > 0 replaces the neighbours by per-task logistic regressions
	// (L2 weight Lambda, Iters full-batch steps; see fitLogistic):
	// est_t(q) = sigmoid(b_tl + w_tl . q).
	Lambda float64
	Iters  int // DefaultPriorIters when <= 0

	dim, nLLM int
	tasks     []int     // task ids, ascending
	start     []int     // rows of task k are [start[k], start[k+1])
	train     []float32 // n unit rows of dim, grouped by task
	targets   []float64 // n rows of nLLM
	centroids []float32 // len(tasks) unit rows of dim
	priors    [][]float64
	lrW       []float32 // logistic weights: task k, LLM l at (k*nLLM+l)*dim
	lrB       []float64 // logistic biases: task k, LLM l at k*nLLM+l
}

// DefaultPriorIters is the logistic-regression step count used when Iters <= 0.
const DefaultPriorIters = 200

func (r *TaskPrior) iters() int {
	if r.Iters <= 0 {
		return DefaultPriorIters
	}
	return r.Iters
}

// NewTaskPrior returns an unfitted TaskPrior router.
func NewTaskPrior(k int, alpha, taskTemp float64) *TaskPrior {
	return &TaskPrior{K: k, Alpha: alpha, TaskTemp: taskTemp}
}

func (r *TaskPrior) Kind() string { return kindPrior }

func (r *TaskPrior) Name() string {
	g := ""
	if r.Global {
		g = "-global"
	}
	if r.Lambda > 0 {
		return fmt.Sprintf("task_prior-logistic-l%g-i%d-t%g", r.Lambda, r.iters(), r.TaskTemp)
	}
	return fmt.Sprintf("task_prior-knn-k%d-a%g-t%g-p%g%s", r.k(), r.alpha(), r.TaskTemp, r.power(), g)
}

func (r *TaskPrior) k() int {
	if r.K == 0 {
		return DefaultPriorK
	}
	return max(r.K, 0)
}

func (r *TaskPrior) alpha() float64 {
	if r.Alpha <= 0 {
		return DefaultPriorAlpha
	}
	return r.Alpha
}

func (r *TaskPrior) power() float64 {
	if r.Power <= 0 {
		return 1
	}
	return r.Power
}

// Fit needs one task id per row; scores are the targets (e.g. credit).
func (r *TaskPrior) Fit(x [][]float32, scores [][]float64, taskIDs []int) error {
	dim, t, err := checkFit(x, scores, taskIDs, true)
	if err != nil {
		return err
	}
	rows := map[int][]int{}
	for i, id := range taskIDs {
		rows[id] = append(rows[id], i)
	}
	ids := make([]int, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	f := TaskPrior{K: r.K, Alpha: r.Alpha, TaskTemp: r.TaskTemp, Power: r.Power, Global: r.Global,
		Lambda: r.Lambda, Iters: r.Iters, dim: dim, nLLM: t, tasks: ids}
	f.train = make([]float32, 0, len(x)*dim)
	f.targets = make([]float64, 0, len(x)*t)
	keepRows := r.Lambda <= 0 // the kNN mode needs the training rows
	f.start = []int{0}
	for _, id := range ids {
		c := make([]float64, dim)
		for _, i := range rows[id] {
			u := unit(x[i])
			if keepRows {
				f.train = append(f.train, u...)
				f.targets = append(f.targets, scores[i]...)
			}
			for j, v := range u {
				c[j] += float64(v)
			}
		}
		normalise64(c)
		for _, v := range c {
			f.centroids = append(f.centroids, float32(v))
		}
		f.priors = append(f.priors, meanRows(scores, rows[id], t))
		if r.Lambda > 0 {
			xs := make([][]float32, len(rows[id]))
			ys := make([][]float64, len(rows[id]))
			for k, i := range rows[id] {
				xs[k], ys[k] = unit(x[i]), scores[i]
			}
			w, b := fitLogistic(toSparse(xs), ys, dim, r.Lambda, f.iters())
			for _, v := range w {
				f.lrW = append(f.lrW, float32(v))
			}
			f.lrB = append(f.lrB, b...)
		}
		if keepRows {
			f.start = append(f.start, len(f.targets)/t)
		}
	}
	if !keepRows {
		f.start = nil
	}
	*r = f
	return nil
}

// Tasks returns the task ids the router knows (ascending).
func (r *TaskPrior) Tasks() []int { return append([]int(nil), r.tasks...) }

// Posterior returns each query's task posterior over Tasks().
func (r *TaskPrior) Posterior(x [][]float32) [][]float64 {
	checkQuery(kindPrior, r.priors != nil, x, r.dim)
	out := make([][]float64, len(x))
	parallel.Rows(len(x), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = r.posterior(unit(x[i]))
		}
	})
	return out
}

func (r *TaskPrior) posterior(q []float32) []float64 {
	nt := len(r.tasks)
	pi := make([]float64, nt)
	best := 0
	for k := range nt {
		pi[k] = float64(dot1(r.centroids[k*r.dim:(k+1)*r.dim], q))
		if pi[k] > pi[best] {
			best = k
		}
	}
	if r.TaskTemp <= 0 {
		clear(pi)
		pi[best] = 1
		return pi
	}
	m := pi[best]
	var z float64
	for k := range pi {
		pi[k] = math.Exp((pi[k] - m) / r.TaskTemp)
		z += pi[k]
	}
	for k := range pi {
		pi[k] /= z
	}
	return pi
}

// Scores returns the shrunk per-LLM estimates of each query.
func (r *TaskPrior) Scores(x [][]float32) [][]float64 {
	checkQuery(kindPrior, r.priors != nil, x, r.dim)
	out := make([][]float64, len(x))
	n := len(r.targets) / r.nLLM
	k := r.k()
	if r.lrW != nil {
		k = 0
	}
	const block = 32 // queries per pass over the training matrix
	parallel.Rows(len(x), block, func(lo, hi int) {
		var sims [][]float32
		if k > 0 {
			sims = make([][]float32, block)
			for b := range sims {
				sims[b] = make([]float32, n)
			}
		}
		q := make([][]float32, block)
		topIdx := make([]int, 0, k)
		topSim := make([]float32, 0, k)
		for s := lo; s < hi; s += block {
			e := min(s+block, hi)
			m := e - s
			for b := range m {
				q[b] = unit(x[s+b])
			}
			if k > 0 {
				simBlock(r.train, r.dim, n, q[:m], sims)
			}
			for b := range m {
				pi := r.posterior(q[b])
				row := make([]float64, r.nLLM)
				if r.Global && r.lrW == nil {
					prior := make([]float64, r.nLLM)
					for t, p := range pi {
						for l, v := range r.priors[t] {
							prior[l] += p * v
						}
					}
					var idx []int
					var sim []float32
					if k > 0 {
						idx, sim = topK(sims[b], min(k, n), topIdx[:0], topSim[:0])
					}
					r.shrink(row, 1, idx, sim, 0, prior)
				} else {
					var wsum float64
					for _, p := range pi {
						if p >= 1e-4 {
							wsum += p
						}
					}
					for t, p := range pi {
						if p < 1e-4 {
							continue
						}
						if r.lrW != nil {
							r.logistic(row, p/wsum, t, q[b])
							continue
						}
						var idx []int
						var sim []float32
						if k > 0 {
							lo, hi := r.start[t], r.start[t+1]
							idx, sim = topK(sims[b][lo:hi], min(k, hi-lo), topIdx[:0], topSim[:0])
						}
						r.shrink(row, p/wsum, idx, sim, r.start[t], r.priors[t])
					}
				}
				out[s+b] = row
			}
		}
	})
	return out
}

// logistic adds scale * sigmoid(b_tl + w_tl . q) to row.
func (r *TaskPrior) logistic(row []float64, scale float64, t int, q []float32) {
	for l := range row {
		k := t*r.nLLM + l
		z := r.lrB[k] + float64(dot1(r.lrW[k*r.dim:(k+1)*r.dim], q))
		row[l] += scale * sigmoid(z)
	}
}

// shrink adds scale * (sum w_i y_i + alpha prior) / (sum w_i + alpha) to
// row, for neighbours idx (offset by off) with similarities sim.
func (r *TaskPrior) shrink(row []float64, scale float64, idx []int, sim []float32, off int, prior []float64) {
	a := r.alpha()
	p := r.power()
	num := make([]float64, r.nLLM)
	den := a
	for l, v := range prior {
		num[l] = a * v
	}
	for j, i := range idx {
		w := math.Max(float64(sim[j]), 0)
		if p != 1 {
			w = math.Pow(w, p)
		}
		if w == 0 {
			continue
		}
		den += w
		y := r.targets[(off+i)*r.nLLM : (off+i+1)*r.nLLM]
		for l, v := range y {
			num[l] += w * v
		}
	}
	for l := range row {
		row[l] += scale * num[l] / den
	}
}

// simBlock fills sims[b][i] = q[b] . row i of train (n rows of dim).
func simBlock(train []float32, dim, n int, q [][]float32, sims [][]float32) {
	for i := range n {
		t := train[i*dim : (i+1)*dim]
		b := 0
		for ; b+4 <= len(q); b += 4 {
			s0, s1, s2, s3 := dot4(t, q[b], q[b+1], q[b+2], q[b+3])
			sims[b][i], sims[b+1][i], sims[b+2][i], sims[b+3][i] = s0, s1, s2, s3
		}
		for ; b < len(q); b++ {
			sims[b][i] = dot1(t, q[b])
		}
	}
}

type priorFile struct {
	header
	K         int         `json:"k"`
	Alpha     float64     `json:"alpha"`
	TaskTemp  float64     `json:"task_temp"`
	Power     float64     `json:"power"`
	Global    bool        `json:"global"`
	Lambda    float64     `json:"lambda"`
	Iters     int         `json:"iters"`
	Dim       int         `json:"dim"`
	Tasks     []int       `json:"tasks"`
	Start     []int       `json:"start"`
	Indptr    []int       `json:"indptr"`
	Indices   string      `json:"indices"`
	Values    string      `json:"values"`
	Targets   [][]float64 `json:"targets"`
	Centroids [][]float32 `json:"centroids"`
	Priors    [][]float64 `json:"priors"`
	LRW       [][]float32 `json:"lr_w,omitempty"` // task k, LLM l at row k*nLLM+l
	LRB       []float64   `json:"lr_b,omitempty"`
}

// Save writes the fitted router (training rows included, sparse) as JSON.
func (r *TaskPrior) Save(path string) error {
	if r.priors == nil {
		return fmt.Errorf("hostrouters: saving an unfitted task_prior router")
	}
	n := len(r.targets) / r.nLLM
	f := priorFile{header: header{fileFormat, fileVersion, kindPrior},
		K: r.K, Alpha: r.Alpha, TaskTemp: r.TaskTemp, Power: r.Power, Global: r.Global,
		Lambda: r.Lambda, Iters: r.Iters, Dim: r.dim, Tasks: r.tasks, Start: r.start, Priors: r.priors, LRB: r.lrB}
	for k := range len(r.lrB) {
		f.LRW = append(f.LRW, r.lrW[k*r.dim:(k+1)*r.dim])
	}
	if r.train != nil {
		f.Indptr, f.Indices, f.Values = encodeCSR(r.train, n, r.dim)
	}
	for i := range n {
		f.Targets = append(f.Targets, r.targets[i*r.nLLM:(i+1)*r.nLLM])
	}
	for k := range r.tasks {
		f.Centroids = append(f.Centroids, r.centroids[k*r.dim:(k+1)*r.dim])
	}
	return save(path, f)
}

// LoadTaskPrior reads a router written by (*TaskPrior).Save.
func LoadTaskPrior(path string) (*TaskPrior, error) {
	return loadKind[TaskPrior](path, kindPrior)
}

func (r *TaskPrior) decodeFile(data []byte) error {
	var f priorFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	n, nt := len(f.Targets), len(f.Tasks)
	knn := f.Lambda <= 0
	if nt == 0 || f.Dim <= 0 || len(f.Centroids) != nt || len(f.Priors) != nt || len(f.Priors[0]) == 0 {
		return fmt.Errorf("inconsistent task_prior file (%d tasks, dim %d)", nt, f.Dim)
	}
	for k := 1; k < nt; k++ {
		if f.Tasks[k] <= f.Tasks[k-1] {
			return fmt.Errorf("task ids not ascending at %d", k)
		}
	}
	t := len(f.Priors[0])
	var train []float32
	if knn {
		if n == 0 || len(f.Start) != nt+1 || f.Start[0] != 0 || f.Start[nt] != n {
			return fmt.Errorf("inconsistent task_prior rows (%d rows, %d task starts)", n, len(f.Start))
		}
		for k := range nt {
			if f.Start[k] > f.Start[k+1] {
				return fmt.Errorf("task starts decrease at %d", k)
			}
		}
		var err error
		if train, err = decodeCSR(f.Indptr, f.Indices, f.Values, n, f.Dim); err != nil {
			return err
		}
	} else if n != 0 || len(f.Start) != 0 {
		return fmt.Errorf("training rows in a logistic task_prior file")
	}
	g := TaskPrior{K: f.K, Alpha: f.Alpha, TaskTemp: f.TaskTemp, Power: f.Power, Global: f.Global,
		Lambda: f.Lambda, Iters: f.Iters, dim: f.Dim, nLLM: t, tasks: f.Tasks, start: f.Start, train: train, priors: f.Priors}
	if f.Lambda > 0 {
		if len(f.LRW) != nt*t || len(f.LRB) != nt*t {
			return fmt.Errorf("%d logistic weight rows and %d biases, want %d", len(f.LRW), len(f.LRB), nt*t)
		}
		for k, w := range f.LRW {
			if len(w) != f.Dim {
				return fmt.Errorf("logistic weight row %d has %d entries, want %d", k, len(w), f.Dim)
			}
			g.lrW = append(g.lrW, w...)
		}
		g.lrB = f.LRB
	} else if len(f.LRW) != 0 || len(f.LRB) != 0 {
		return fmt.Errorf("logistic weights in a file with lambda %g", f.Lambda)
	}
	for i, y := range f.Targets {
		if len(y) != t {
			return fmt.Errorf("target row %d has %d entries, row 0 has %d", i, len(y), t)
		}
		g.targets = append(g.targets, y...)
	}
	for k := range nt {
		if len(f.Centroids[k]) != f.Dim || len(f.Priors[k]) != t {
			return fmt.Errorf("task %d: centroid or prior of the wrong width", k)
		}
		g.centroids = append(g.centroids, f.Centroids[k]...)
	}
	*r = g
	return nil
}
