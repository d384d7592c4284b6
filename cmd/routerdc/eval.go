package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

// released is one released file of the catalog: its path under the data
// dir and the task it belongs to.
type released struct {
	path, role string
	task       data.Task
}

// taskFiles are a task's released files, under the data dir, and what
// each is.
func taskFiles(t data.Task) (paths, roles []string) {
	for i, p := range []string{t.Train, t.ClusterTrain, t.Test} {
		if p != "" {
			paths = append(paths, p)
			roles = append(roles, []string{"training", "training (with cluster ids)", "test"}[i])
		}
	}
	return paths, roles
}

// releasedFiles maps each released task file's SHA256 to the file and its
// task. A file is known by its content, not its name: a file of one's own
// named mbpp.json is not the released MBPP set.
func releasedFiles() map[string]released {
	byPath := map[string]released{}
	for _, t := range data.Tasks {
		paths, roles := taskFiles(t)
		for i, p := range paths {
			byPath[p] = released{p, roles[i], t}
		}
	}
	out := map[string]released{}
	for _, f := range data.Files() {
		if r, ok := byPath[f.Path]; ok {
			out[f.SHA256] = r
		}
	}
	return out
}

// evalMetric decides the metric of `routerdc eval`: a released task file is
// scored with its task's metric (a --metric that contradicts it is an
// error: it gave 83.93 instead of 70.59 on GSM8K); any other file needs
// --metric.
func evalMetric(file, flagMetric string) (data.Metric, error) {
	m := data.Metric(flagMetric)
	if flagMetric != "" && m != data.Probability && m != data.MultiAttempt {
		return "", fmt.Errorf("--metric %q: want probability or multi_attempt", flagMetric)
	}
	sum, err := data.FileSHA256(file)
	if err != nil {
		return "", err
	}
	if r, ok := releasedFiles()[sum]; ok {
		if flagMetric != "" && m != r.task.Metric {
			return "", fmt.Errorf("--metric %s contradicts %s: it is the released %s %s file %s, whose metric is %s "+
				"(drop --metric; \"routerdc eval --help\" lists the tasks' metrics)",
				m, file, r.task.Name, r.role, r.path, r.task.Metric)
		}
		return r.task.Metric, nil
	}
	if flagMetric == "" {
		return "", fmt.Errorf("--metric is required for %s: it is not one of the released task files, whose metrics are known "+
			"(\"routerdc eval --help\" lists them); give --metric probability (credit 1 when the picked LLM's score > 0) "+
			"or --metric multi_attempt (credit = the picked LLM's score)", file)
	}
	return m, nil
}

// metricTable is the task-to-metric table of the released data, as README's
// "The CLI" section shows it (a test keeps the two the same).
func metricTable() string {
	var b strings.Builder
	b.WriteString("| Task | Metric | Files (under the data dir) |\n|---|---|---|\n")
	for _, t := range data.Tasks {
		var files []string
		paths, _ := taskFiles(t)
		for _, p := range paths {
			files = append(files, "`"+p+"`")
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Name, t.Metric, strings.Join(files, ", "))
	}
	return b.String()
}

// evalAbout is the help text of eval: what it prints and the metrics of
// the released files.
func evalAbout() string {
	var b strings.Builder
	b.WriteString(`Prints {"accuracy": <percent>, "n": <queries>, "metric": ...} of the router on any
RouterDC-format file whose LLMs are the router's, in the router's order.
A released task file (known by its SHA256, whatever its name) is scored with its
task's metric; --metric may only repeat it. Any other file needs --metric:
probability (credit 1 when the picked LLM's score > 0) or multi_attempt (credit =
the picked LLM's score). The released files (under split2_model7/ and
split2_model7_cluster/ of the data dir) and their metrics:

`)
	for _, t := range data.Tasks {
		var files []string
		paths, _ := taskFiles(t)
		for _, p := range paths {
			if b := path.Base(p); !slices.Contains(files, b) {
				files = append(files, b)
			}
		}
		fmt.Fprintf(&b, "  %-11s %-14s %s\n", t.Name, t.Metric, strings.Join(files, ", "))
	}
	return b.String()
}

// checkDataFile gives a hint for a --data that is no file: a directory
// (the data dir, given where one of its files is wanted) or a wrong path.
func checkDataFile(file string) error {
	if file == "" {
		return errors.New("--data FILE is required (a RouterDC-format JSON file, e.g. DATA/split2_model7/gsm8k-test.json)")
	}
	fi, err := os.Stat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--data %s: no such file; give a RouterDC-format JSON file, e.g. %s",
			file, filepath.Join(data.Dir(""), "split2_model7", "gsm8k-test.json"))
	case err != nil:
		return fmt.Errorf("--data: %w", err)
	case fi.IsDir():
		example := filepath.Join(data.Dir(""), "split2_model7", "gsm8k-test.json")
		if data.HasAnyFile(file) {
			example = filepath.Join(file, "split2_model7", "gsm8k-test.json")
		}
		return fmt.Errorf("--data wants one RouterDC-format JSON file, not a directory: e.g. %s", example)
	}
	return nil
}

// checkRouterDir gives a hint for a --router that is not a directory: the
// router.json inside one (use its directory) or a wrong path.
func checkRouterDir(dir string) error {
	if dir == "" {
		return errors.New(`--router DIR is required (the directory "routerdc train --out DIR" wrote)`)
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf(`--router %s: no such directory; give the directory "routerdc train --out DIR" wrote`, dir)
	case err != nil:
		return fmt.Errorf("--router: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("--router wants the router directory (from routerdc train), not a file: use %s", filepath.Dir(dir))
	}
	return nil
}
