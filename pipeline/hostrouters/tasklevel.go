package hostrouters

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/routerdc-go/routerdc/pipeline/parallel"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

func init() {
	register(hostKind{name: "task", fileKind: kindTaskLevel,
		empty: func() Router { return &TaskLevel{} },
		fit:   func(routers.Values, int64) Router { return NewTaskLevel() }})
}

const kindTaskLevel = "task_level"

// TaskLevel routes a query in two steps: classify its task by the nearest
// task centroid (cosine to the mean of the task's L2-normalised training
// features), then send it to the LLM with the best mean training score on
// that task. Scores returns the predicted task's mean training scores, so
// Route picks that task's best LLM.
//
// (Nearest centroid on the hashed features already classifies 98% of the
// in-distribution test queries to the right task, so a learned classifier
// was not worth its cost.)
type TaskLevel struct {
	dim       int
	tasks     []int       // task ids seen in training, ascending
	centroids [][]float64 // unit-norm centroid per task
	means     [][]float64 // mean training score per task per LLM
}

// NewTaskLevel returns an unfitted task-level router.
func NewTaskLevel() *TaskLevel { return &TaskLevel{} }

func (r *TaskLevel) Kind() string { return kindTaskLevel }
func (r *TaskLevel) Name() string { return "task_level-centroid" }

// Fit needs one task id per row.
func (r *TaskLevel) Fit(x [][]float32, scores [][]float64, taskIDs []int) error {
	dim, t, err := checkFit(x, scores, taskIDs, true)
	if err != nil {
		return err
	}
	rows := map[int][]int{}
	maxID := 0
	for i, id := range taskIDs {
		rows[id] = append(rows[id], i)
		maxID = max(maxID, id)
	}
	*r = TaskLevel{dim: dim}
	for id := 0; id <= maxID; id++ {
		idx, ok := rows[id]
		if !ok {
			continue
		}
		c := make([]float64, dim)
		for _, i := range idx {
			for j, v := range unit(x[i]) {
				c[j] += float64(v)
			}
		}
		normalise64(c)
		r.tasks = append(r.tasks, id)
		r.centroids = append(r.centroids, c)
		r.means = append(r.means, meanRows(scores, idx, t))
	}
	return nil
}

// Tasks returns the task ids the router knows, in the order of Classify's
// indices into them.
func (r *TaskLevel) Tasks() []int { return append([]int(nil), r.tasks...) }

// Classify returns the predicted task id of each row of x.
func (r *TaskLevel) Classify(x [][]float32) []int {
	checkQuery(kindTaskLevel, r.centroids != nil, x, r.dim)
	out := make([]int, len(x))
	parallel.Rows(len(x), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = r.tasks[r.nearest(x[i])]
		}
	})
	return out
}

// BestLLM returns the LLM index with the best mean training score on task
// id (ties to the lowest index), or -1 for an unknown task.
func (r *TaskLevel) BestLLM(id int) int {
	for k, t := range r.tasks {
		if t == id {
			return argmax(r.means[k])
		}
	}
	return -1
}

// Scores returns the mean training scores of each query's predicted task.
func (r *TaskLevel) Scores(x [][]float32) [][]float64 {
	checkQuery(kindTaskLevel, r.centroids != nil, x, r.dim)
	out := make([][]float64, len(x))
	parallel.Rows(len(x), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = append([]float64(nil), r.means[r.nearest(x[i])]...)
		}
	})
	return out
}

// nearest returns the index (into r.tasks) of the most cosine-similar
// centroid; the centroids are unit, so the query's norm does not matter.
func (r *TaskLevel) nearest(v []float32) int {
	best, bestS := 0, math.Inf(-1)
	for k, c := range r.centroids {
		var s float64
		for j, x := range v {
			s += float64(x) * c[j]
		}
		if s > bestS {
			best, bestS = k, s
		}
	}
	return best
}

func normalise64(v []float64) {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	if ss == 0 {
		return
	}
	inv := 1 / math.Sqrt(ss)
	for j := range v {
		v[j] *= inv
	}
}

type taskLevelFile struct {
	header
	Dim       int         `json:"dim"`
	Tasks     []int       `json:"tasks"`
	Centroids [][]float64 `json:"centroids"`
	Means     [][]float64 `json:"means"`
}

// Save writes the fitted router as JSON.
func (r *TaskLevel) Save(path string) error {
	if r.centroids == nil {
		return fmt.Errorf("hostrouters: saving an unfitted task-level router")
	}
	return save(path, taskLevelFile{header{fileFormat, fileVersion, kindTaskLevel}, r.dim, r.tasks, r.centroids, r.means})
}

// LoadTaskLevel reads a router written by (*TaskLevel).Save.
func LoadTaskLevel(path string) (*TaskLevel, error) {
	return loadKind[TaskLevel](path, kindTaskLevel)
}

func (r *TaskLevel) decodeFile(data []byte) error {
	var f taskLevelFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if err := checkTable(f.Dim, f.Centroids, f.Means); err != nil {
		return err
	}
	if len(f.Tasks) != len(f.Centroids) {
		return fmt.Errorf("%d task ids for %d centroids", len(f.Tasks), len(f.Centroids))
	}
	*r = TaskLevel{dim: f.Dim, tasks: f.Tasks, centroids: f.Centroids, means: f.Means}
	return nil
}

// checkTable validates centroid/mean-score tables read from a file.
func checkTable(dim int, cents, means [][]float64) error {
	if len(cents) == 0 || len(cents) != len(means) || dim <= 0 {
		return fmt.Errorf("%d centroids, %d score rows, dim %d", len(cents), len(means), dim)
	}
	for k := range cents {
		if len(cents[k]) != dim {
			return fmt.Errorf("centroid %d has %d entries, want %d", k, len(cents[k]), dim)
		}
		if len(means[k]) == 0 || len(means[k]) != len(means[0]) {
			return fmt.Errorf("score row %d has %d entries", k, len(means[k]))
		}
	}
	return nil
}
