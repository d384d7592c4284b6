package data

import (
	"fmt"
	"strings"
)

// Tasks are the paper's 8 benchmarks in the column order of Tables 1 and 2:
// 5 in-distribution tasks with training files, then 3 out-of-distribution
// test-only tasks.
var Tasks = []Task{
	{Name: "MMLU", Train: "split2_model7/mmlu_train.json", ClusterTrain: "split2_model7_cluster/mmlu_train.json",
		Test: "split2_model7/mmlu_test.json", Metric: Probability},
	{Name: "GSM8K", Train: "split2_model7/gsm8k-train.json", ClusterTrain: "split2_model7_cluster/gsm8k-train.json",
		Test: "split2_model7/gsm8k-test.json", Metric: MultiAttempt},
	{Name: "CMMLU", Train: "split2_model7/cmmlu_train.json", ClusterTrain: "split2_model7_cluster/cmmlu_train.json",
		Test: "split2_model7/cmmlu_test.json", Metric: Probability},
	{Name: "ARC-C", Train: "split2_model7/arc_challenge_train.json", ClusterTrain: "split2_model7_cluster/arc_challenge_train.json",
		Test: "split2_model7/arc_challenge_test.json", Metric: Probability},
	{Name: "HumanEval", Train: "split2_model7/humaneval_train.json", ClusterTrain: "split2_model7_cluster/humaneval_train.json",
		Test: "split2_model7/humaneval_test.json", Metric: MultiAttempt},
	{Name: "PreAlgebra", Test: "split2_model7/MATH_prealgebra.json", Metric: Probability, OOD: true},
	{Name: "MBPP", Test: "split2_model7/mbpp.json", Metric: MultiAttempt, OOD: true},
	{Name: "C-EVAL", Test: "split2_model7/ceval.json", Metric: Probability, OOD: true},
}

// TaskByName finds a task by its table name, ignoring case.
func TaskByName(name string) (Task, error) {
	var names []string
	for _, t := range Tasks {
		if strings.EqualFold(t.Name, name) {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Task{}, fmt.Errorf("unknown task %q (known: %s)", name, strings.Join(names, ", "))
}

// IDTasks are the in-distribution tasks (Table 1), in table order.
func IDTasks() []Task { return filterTasks(false) }

// OODTasks are the out-of-distribution tasks (Table 2), in table order.
func OODTasks() []Task { return filterTasks(true) }

func filterTasks(ood bool) []Task {
	var out []Task
	for _, t := range Tasks {
		if t.OOD == ood {
			out = append(out, t)
		}
	}
	return out
}

// LLMs are the 7 candidate LLMs in the order of the released files, which is
// not the paper's row order (zephyr and Chinese-Mistral are swapped).
var LLMs = []string{
	"mistralai/Mistral-7B-v0.1",
	"meta-math/MetaMath-Mistral-7B",
	"itpossible/Chinese-Mistral-7B-v0.1",
	"HuggingFaceH4/zephyr-7b-beta",
	"cognitivecomputations/dolphin-2.6-mistral-7b",
	"meta-llama/Meta-Llama-3-8B",
	"cognitivecomputations/dolphin-2.9-llama3-8b",
}

// PaperLLMNames maps the files' LLM ids to the row names of the paper's tables.
var PaperLLMNames = map[string]string{
	"mistralai/Mistral-7B-v0.1":                    "Mistral-7B",
	"meta-math/MetaMath-Mistral-7B":                "MetaMath-Mistral-7B",
	"HuggingFaceH4/zephyr-7b-beta":                 "zephyr-7b-beta",
	"itpossible/Chinese-Mistral-7B-v0.1":           "Chinese-Mistral-7B",
	"cognitivecomputations/dolphin-2.6-mistral-7b": "dolphin-2.6-mistral-7b",
	"meta-llama/Meta-Llama-3-8B":                   "Meta-Llama-3-8B",
	"cognitivecomputations/dolphin-2.9-llama3-8b":  "dolphin-2.9-llama3-8b",
}

// ShortName is the paper's name for an LLM id, or the id itself for an LLM
// the paper does not list.
func ShortName(llm string) string {
	if s, ok := PaperLLMNames[llm]; ok {
		return s
	}
	return llm
}
