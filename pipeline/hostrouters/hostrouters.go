// Package hostrouters holds the router kinds computed on the host over
// fixed encoder features, without a GoMLX training loop: the baselines
// k-nearest-neighbours, task-level (classify the task, send it to the
// task's best LLM) and LoraRetriever (clustering), and our task prior
// (task posterior refined per query by logistic regressions or shrunk kNN).
// Each kind registers itself with pipeline/routers.
//
// Every router has the same shape: Fit on training features, the per-query
// per-LLM score matrix and task ids; Scores returns one value per LLM per
// query (higher is better, Route takes the argmax); Save / Load write and
// read JSON atomically.
package hostrouters

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// Router is the common shape of the hostrouters.
type Router interface {
	// Kind is the router's file kind: "knn", "task_level" or "lora_retriever".
	Kind() string
	// Name describes the router and its settings, e.g. "knn-k20".
	Name() string
	// Fit learns from training features x (one row per query), scores
	// (one row per query, one column per LLM) and taskIDs (one per query,
	// 0-based; routers that do not use them accept nil).
	Fit(x [][]float32, scores [][]float64, taskIDs []int) error
	// Scores returns one value per LLM for each row of x (higher is better).
	// It panics when the router is not fitted or a row has the wrong width.
	Scores(x [][]float32) [][]float64
	// Save writes the fitted router as JSON (temp file, then rename).
	Save(path string) error
}

var (
	_ Router = (*KNN)(nil)
	_ Router = (*TaskLevel)(nil)
	_ Router = (*LoraRetriever)(nil)
	_ Router = (*TaskPrior)(nil)
)

// Route returns the argmax of each row (ties to the lowest LLM index).
func Route(scores [][]float64) []int {
	out := make([]int, len(scores))
	for i, row := range scores {
		out[i] = argmax(row)
	}
	return out
}

func argmax(row []float64) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// Load reads any router written by Save, by the kind its file names.
func Load(path string) (Router, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("hostrouters: %s: %w", path, err)
	}
	empty, ok := fileKinds[h.Kind]
	if !ok {
		return nil, fmt.Errorf("hostrouters: %s: unknown router kind %q", path, h.Kind)
	}
	r := empty()
	if err := decode(path, data, h.Kind, r); err != nil {
		return nil, err
	}
	return r, nil
}

// loadFile reads a router file of one kind into r.
func loadFile(path, kind string, r Router) (Router, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := decode(path, data, kind, r); err != nil {
		return nil, err
	}
	return r, nil
}

const (
	fileFormat  = "routerdc-baseline"
	fileVersion = 1
)

type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Kind    string `json:"kind"`
}

// decoder is implemented by each router to rebuild itself from its file.
type decoder interface {
	decodeFile(data []byte) error
}

func decode(path string, data []byte, kind string, r Router) error {
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return fmt.Errorf("hostrouters: %s: %w", path, err)
	}
	if h.Format != fileFormat || h.Version != fileVersion || h.Kind != kind {
		return fmt.Errorf("hostrouters: %s: %q v%d kind %q, want %q v%d kind %q",
			path, h.Format, h.Version, h.Kind, fileFormat, fileVersion, kind)
	}
	if err := r.(decoder).decodeFile(data); err != nil {
		return fmt.Errorf("hostrouters: %s: %w", path, err)
	}
	return nil
}

// loadKind reads a router file of one kind into a new *T.
func loadKind[T any, P interface {
	*T
	Router
}](path, kind string) (P, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := P(new(T))
	if err := decode(path, data, kind, r); err != nil {
		return nil, err
	}
	return r, nil
}

func save(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// checkFit validates the training inputs and returns (feature dim, #LLMs).
func checkFit(x [][]float32, scores [][]float64, taskIDs []int, needTasks bool) (int, int, error) {
	if len(x) == 0 {
		return 0, 0, fmt.Errorf("hostrouters: fit on no rows")
	}
	if len(scores) != len(x) {
		return 0, 0, fmt.Errorf("hostrouters: %d feature rows but %d score rows", len(x), len(scores))
	}
	if needTasks && len(taskIDs) != len(x) {
		return 0, 0, fmt.Errorf("hostrouters: %d feature rows but %d task ids", len(x), len(taskIDs))
	}
	if taskIDs != nil && len(taskIDs) != len(x) {
		return 0, 0, fmt.Errorf("hostrouters: %d feature rows but %d task ids", len(x), len(taskIDs))
	}
	dim, t := len(x[0]), len(scores[0])
	if dim == 0 || t == 0 {
		return 0, 0, fmt.Errorf("hostrouters: fit with %d features and %d LLMs", dim, t)
	}
	for i := range x {
		if len(x[i]) != dim {
			return 0, 0, fmt.Errorf("hostrouters: row %d has %d features, row 0 has %d", i, len(x[i]), dim)
		}
		if len(scores[i]) != t {
			return 0, 0, fmt.Errorf("hostrouters: row %d has %d scores, row 0 has %d", i, len(scores[i]), t)
		}
		for _, s := range scores[i] {
			if math.IsNaN(s) || math.IsInf(s, 0) {
				return 0, 0, fmt.Errorf("hostrouters: row %d has a non-finite score", i)
			}
		}
		for _, v := range x[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return 0, 0, fmt.Errorf("hostrouters: row %d has a non-finite feature", i)
			}
		}
		if taskIDs != nil && taskIDs[i] < 0 {
			return 0, 0, fmt.Errorf("hostrouters: row %d has task id %d < 0", i, taskIDs[i])
		}
	}
	return dim, t, nil
}

func checkQuery(kind string, fitted bool, x [][]float32, dim int) {
	if !fitted {
		panic("hostrouters: " + kind + " router used before Fit")
	}
	for i, r := range x {
		if len(r) != dim {
			panic(fmt.Sprintf("hostrouters: %s: query %d has %d features, the router was fitted on %d", kind, i, len(r), dim))
		}
	}
}

// meanRows averages the rows of m selected by idx.
func meanRows(m [][]float64, idx []int, width int) []float64 {
	out := make([]float64, width)
	for _, i := range idx {
		for j, v := range m[i] {
			out[j] += v
		}
	}
	if len(idx) > 0 {
		for j := range out {
			out[j] /= float64(len(idx))
		}
	}
	return out
}

// unit returns a float32 copy of v scaled to unit L2 norm (zero stays zero).
func unit(v []float32) []float32 {
	out := make([]float32, len(v))
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return out
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func copyScores(s [][]float64) [][]float64 {
	out := make([][]float64, len(s))
	for i, r := range s {
		out[i] = append([]float64(nil), r...)
	}
	return out
}

// encodeCSR writes n rows of dim (row-major) as CSR: little-endian uint32
// column indices and float32 values, base64.
func encodeCSR(m []float32, n, dim int) (indptr []int, indices, values string) {
	var ind, val []byte
	indptr = append(indptr, 0)
	for i := range n {
		for j, v := range m[i*dim : (i+1)*dim] {
			if v != 0 {
				ind = binary.LittleEndian.AppendUint32(ind, uint32(j))
				val = binary.LittleEndian.AppendUint32(val, math.Float32bits(v))
			}
		}
		indptr = append(indptr, len(ind)/4)
	}
	return indptr, base64.StdEncoding.EncodeToString(ind), base64.StdEncoding.EncodeToString(val)
}

func decodeCSR(indptr []int, indices, values string, n, dim int) ([]float32, error) {
	ind, err := base64.StdEncoding.DecodeString(indices)
	if err != nil {
		return nil, fmt.Errorf("indices: %w", err)
	}
	val, err := base64.StdEncoding.DecodeString(values)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	if len(indptr) != n+1 || len(ind) != len(val) || len(ind)%4 != 0 || indptr[0] != 0 || indptr[n] != len(ind)/4 {
		return nil, fmt.Errorf("inconsistent CSR rows (%d rows, %d indptr, %d/%d bytes)", n, len(indptr), len(ind), len(val))
	}
	m := make([]float32, n*dim)
	for i := range n {
		if indptr[i] > indptr[i+1] {
			return nil, fmt.Errorf("indptr decreases at row %d", i)
		}
		for p := indptr[i]; p < indptr[i+1]; p++ {
			j := int(binary.LittleEndian.Uint32(ind[4*p:]))
			if j >= dim {
				return nil, fmt.Errorf("row %d: column %d >= dim %d", i, j, dim)
			}
			m[i*dim+j] = math.Float32frombits(binary.LittleEndian.Uint32(val[4*p:]))
		}
	}
	return m, nil
}
