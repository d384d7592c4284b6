package data

import (
	"slices"
	"strings"
	"testing"
)

func TestTasksTableOrder(t *testing.T) {
	var names []string
	for _, task := range Tasks {
		names = append(names, task.Name)
	}
	want := []string{"MMLU", "GSM8K", "CMMLU", "ARC-C", "HumanEval", "PreAlgebra", "MBPP", "C-EVAL"}
	if !slices.Equal(names, want) {
		t.Fatalf("task order %v, want %v", names, want)
	}
	metrics := map[string]Metric{"MMLU": Probability, "GSM8K": MultiAttempt, "CMMLU": Probability, "ARC-C": Probability,
		"HumanEval": MultiAttempt, "PreAlgebra": Probability, "MBPP": MultiAttempt, "C-EVAL": Probability}
	for _, task := range Tasks {
		if task.Metric != metrics[task.Name] {
			t.Errorf("%s metric %q, want %q", task.Name, task.Metric, metrics[task.Name])
		}
		if task.OOD != (task.Train == "") || task.OOD != (task.ClusterTrain == "") {
			t.Errorf("%s: OOD=%v but Train=%q ClusterTrain=%q", task.Name, task.OOD, task.Train, task.ClusterTrain)
		}
	}
}

func TestTaskFilesAreReleasedFiles(t *testing.T) {
	released := map[string]bool{}
	for _, f := range Files() {
		released[f.Path] = true
	}
	if len(released) != 18 {
		t.Fatalf("SHA256SUMS lists %d files, want 18", len(released))
	}
	used := map[string]bool{}
	for _, task := range Tasks {
		for _, f := range []string{task.Train, task.ClusterTrain, task.Test} {
			if f == "" {
				continue
			}
			if !released[f] {
				t.Errorf("%s names %s, which SHA256SUMS does not list", task.Name, f)
			}
			used[f] = true
		}
	}
	if len(used) != len(released) {
		t.Errorf("the catalog uses %d of the %d released files", len(used), len(released))
	}
}

func TestIDAndOODTasks(t *testing.T) {
	id, ood := IDTasks(), OODTasks()
	if len(id) != 5 || len(ood) != 3 {
		t.Fatalf("%d ID and %d OOD tasks, want 5 and 3", len(id), len(ood))
	}
	if id[0].Name != "MMLU" || id[4].Name != "HumanEval" || ood[0].Name != "PreAlgebra" || ood[2].Name != "C-EVAL" {
		t.Errorf("ID %v / OOD %v not in table order", id, ood)
	}
}

func TestTaskByName(t *testing.T) {
	for _, name := range []string{"ARC-C", "arc-c", "c-eval", "HumanEval"} {
		task, err := TaskByName(name)
		if err != nil || !strings.EqualFold(task.Name, name) {
			t.Errorf("TaskByName(%q) = %v, %v", name, task.Name, err)
		}
	}
	_, err := TaskByName("SQuAD")
	if err == nil || !strings.Contains(err.Error(), "SQuAD") || !strings.Contains(err.Error(), "PreAlgebra") {
		t.Errorf("TaskByName(SQuAD) error = %v, want it to name the task and the known ones", err)
	}
}

func TestShortName(t *testing.T) {
	if len(PaperLLMNames) != 7 || len(LLMs) != 7 {
		t.Fatalf("%d paper names and %d LLMs, want 7", len(PaperLLMNames), len(LLMs))
	}
	for _, llm := range LLMs {
		if _, ok := PaperLLMNames[llm]; !ok {
			t.Errorf("no paper name for %s", llm)
		}
	}
	if got := ShortName("meta-llama/Meta-Llama-3-8B"); got != "Meta-Llama-3-8B" {
		t.Errorf("ShortName(Llama 3) = %q", got)
	}
	if got := ShortName("itpossible/Chinese-Mistral-7B-v0.1"); got != "Chinese-Mistral-7B" {
		t.Errorf("ShortName(Chinese-Mistral) = %q", got)
	}
	if got := ShortName("some/new-llm"); got != "some/new-llm" {
		t.Errorf("ShortName falls back to %q, want the id", got)
	}
}
