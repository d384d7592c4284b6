package hostrouters

import (
	"encoding/json"
	"fmt"

	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/parallel"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

func init() {
	register(hostKind{name: "lora", fileKind: kindLora,
		empty: func() Router { return &LoraRetriever{} },
		fit:   func(v routers.Values, seed int64) Router { return NewLoraRetriever(v.Int("clusters"), seed) }})
}

// DefaultClusters is the LoraRetriever cluster count used when Clusters <= 0.
const DefaultClusters = 5

const kindLora = "lora_retriever"

// LoraRetriever is the paper's "LoraRetriever (clustering)" baseline:
// k-means (group.KMeans: k-means++ then Lloyd, squared Euclidean, seeded)
// splits the training features into Clusters groups; each cluster goes to
// the LLM with the best mean training score on its members; a query goes to
// its nearest centroid's LLM. Scores returns that cluster's mean training
// scores. The features are used as given (Encoder output is L2-normalised).
type LoraRetriever struct {
	Clusters int   // DefaultClusters when <= 0
	Seed     int64 // k-means++ seed
	MaxIter  int   // Lloyd iteration cap (group.DefaultMaxIter when <= 0)

	dim       int
	centroids [][]float64
	means     [][]float64 // mean training score per cluster per LLM
	sizes     []int       // training rows per cluster
}

// NewLoraRetriever returns an unfitted router with n clusters and a seed.
func NewLoraRetriever(n int, seed int64) *LoraRetriever {
	return &LoraRetriever{Clusters: n, Seed: seed}
}

func (r *LoraRetriever) Kind() string { return kindLora }

func (r *LoraRetriever) Name() string {
	return fmt.Sprintf("lora_retriever-n%d-s%d", r.clusters(), r.Seed)
}

func (r *LoraRetriever) clusters() int {
	if r.Clusters <= 0 {
		return DefaultClusters
	}
	return r.Clusters
}

// Fit clusters x; taskIDs are ignored (nil is fine).
func (r *LoraRetriever) Fit(x [][]float32, scores [][]float64, taskIDs []int) error {
	dim, t, err := checkFit(x, scores, taskIDs, false)
	if err != nil {
		return err
	}
	assign, cents, err := group.KMeans(x, r.clusters(), r.Seed, r.MaxIter)
	if err != nil {
		return fmt.Errorf("hostrouters: lora_retriever: %w", err)
	}
	members := make([][]int, len(cents))
	for i, a := range assign {
		members[a] = append(members[a], i)
	}
	all := make([]int, len(x))
	for i := range all {
		all[i] = i
	}
	global := meanRows(scores, all, t)
	r.dim, r.centroids = dim, cents
	r.means, r.sizes = make([][]float64, len(cents)), make([]int, len(cents))
	for c, idx := range members {
		r.sizes[c] = len(idx)
		if len(idx) == 0 { // only with fewer distinct rows than clusters
			r.means[c] = append([]float64(nil), global...)
		} else {
			r.means[c] = meanRows(scores, idx, t)
		}
	}
	return nil
}

// Assign returns each row's cluster.
func (r *LoraRetriever) Assign(x [][]float32) []int {
	checkQuery(kindLora, r.centroids != nil, x, r.dim)
	out := make([]int, len(x))
	parallel.Rows(len(x), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i], _ = group.Nearest(x[i], r.centroids)
		}
	})
	return out
}

// ClusterLLM returns the LLM each cluster routes to and the cluster sizes.
func (r *LoraRetriever) ClusterLLM() (llm []int, sizes []int) {
	for _, m := range r.means {
		llm = append(llm, argmax(m))
	}
	return llm, append([]int(nil), r.sizes...)
}

// Scores returns the mean training scores of each query's nearest cluster.
func (r *LoraRetriever) Scores(x [][]float32) [][]float64 {
	a := r.Assign(x)
	out := make([][]float64, len(x))
	for i, c := range a {
		out[i] = append([]float64(nil), r.means[c]...)
	}
	return out
}

type loraFile struct {
	header
	Clusters  int         `json:"clusters"`
	Seed      int64       `json:"seed"`
	MaxIter   int         `json:"max_iter"`
	Dim       int         `json:"dim"`
	Centroids [][]float64 `json:"centroids"`
	Means     [][]float64 `json:"means"`
	Sizes     []int       `json:"sizes"`
}

// Save writes the fitted router as JSON.
func (r *LoraRetriever) Save(path string) error {
	if r.centroids == nil {
		return fmt.Errorf("hostrouters: saving an unfitted lora_retriever router")
	}
	return save(path, loraFile{header{fileFormat, fileVersion, kindLora}, r.Clusters, r.Seed, r.MaxIter, r.dim, r.centroids, r.means, r.sizes})
}

// LoadLoraRetriever reads a router written by (*LoraRetriever).Save.
func LoadLoraRetriever(path string) (*LoraRetriever, error) {
	return loadKind[LoraRetriever](path, kindLora)
}

func (r *LoraRetriever) decodeFile(data []byte) error {
	var f loraFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if err := checkTable(f.Dim, f.Centroids, f.Means); err != nil {
		return err
	}
	if len(f.Sizes) != len(f.Centroids) {
		return fmt.Errorf("%d sizes for %d centroids", len(f.Sizes), len(f.Centroids))
	}
	*r = LoraRetriever{Clusters: f.Clusters, Seed: f.Seed, MaxIter: f.MaxIter, dim: f.Dim, centroids: f.Centroids, means: f.Means, sizes: f.Sizes}
	return nil
}
