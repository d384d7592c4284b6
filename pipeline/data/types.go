// Package data loads and validates RouterDC-format score files and knows the
// catalog of the paper's 8 tasks.
package data

// Query is one routing example: a question and one score per candidate LLM.
type Query struct {
	Question string
	// Scores are in the order of Dataset.LLMs (the order of the file).
	Scores []float64
	// ClusterID is the released group id, or -1 when the record has none.
	ClusterID int
	// Costs are each LLM's cost of answering, in dollars, in the order of
	// Dataset.LLMs; nil when the file has none.
	Costs []float64
}

// Dataset is one RouterDC-format file.
type Dataset struct {
	Path    string
	LLMs    []string
	Queries []Query
}

// Metric says how a picked LLM's score becomes credit.
type Metric string

const (
	// Probability: credit 1 if the picked LLM's score > 0, else 0.
	Probability Metric = "probability"
	// MultiAttempt: credit = the picked LLM's score.
	MultiAttempt Metric = "multi_attempt"
)

// Task is one benchmark of the paper's tables.
type Task struct {
	Name string // as in the paper's table header: MMLU, GSM8K, ...
	// Train is the training file relative to the data dir ("" for OOD tasks).
	Train string
	// ClusterTrain is the released training file with cluster_id ("" for OOD).
	ClusterTrain string
	// Test is the test file relative to the data dir.
	Test   string
	Metric Metric
	OOD    bool
}
