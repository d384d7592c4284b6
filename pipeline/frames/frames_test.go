package frames

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/report"
)

func writeTables(t *testing.T, means, stds string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tables"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"table1.csv": means, "table1_std.csv": stds} {
		if err := os.WriteFile(filepath.Join(dir, "tables", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTableJoinsPaper(t *testing.T) {
	dir := writeTables(t,
		"method,MMLU,GSM8K,CMMLU,ARC-C,HumanEval,Avg\nRouterDC,60.00,70.00,50.00,58.00,50.00,57.60\nOurs only,1,2,3,4,5,3\n",
		"method,MMLU,GSM8K,CMMLU,ARC-C,HumanEval,Avg\nRouterDC,0.5,0.1,0.2,0.3,0.4,0.25\nOurs only,0,0,0,0,0,0\n")
	df, err := Table(dir, "table1")
	if err != nil {
		t.Fatal(err)
	}
	if r, c := df.Dims(); r != 12 || c != 6 {
		t.Fatalf("dims %dx%d, want 12x6", r, c)
	}
	avg := Column(df, report.AvgColumn)
	if avg.Nrow() != 2 {
		t.Fatalf("Avg rows %d, want 2", avg.Nrow())
	}
	// RouterDC's published average is 58.54 (reference data in report).
	paper, _ := report.PaperTable1.Value("RouterDC", report.AvgColumn)
	if got := avg.Col("paper").Elem(0).Float(); got != paper {
		t.Errorf("paper Avg %v, want %v", got, paper)
	}
	if got, want := avg.Col("diff").Elem(0).Float(), 57.60-paper; math.Abs(got-want) > 1e-9 {
		t.Errorf("diff %v, want %v", got, want)
	}
	if got := avg.Col("std").Elem(0).Float(); got != 0.25 {
		t.Errorf("std %v, want 0.25", got)
	}
	if got := avg.Col("paper").Elem(1).Float(); !math.IsNaN(got) {
		t.Errorf("row the paper lacks: paper %v, want NaN", got)
	}
	wide, err := Wide(df, "ours")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(wide.Names(), ","); got != "method,MMLU,GSM8K,CMMLU,ARC-C,HumanEval,Avg" {
		t.Errorf("wide columns %s", got)
	}
	if got := wide.Col("HumanEval").Elem(1).Float(); got != 5 {
		t.Errorf("wide HumanEval of row 2 = %v, want 5", got)
	}
	if _, err := Wide(df, "nope"); err == nil {
		t.Error("Wide with an unknown measure: want an error")
	}
}

func TestTableErrors(t *testing.T) {
	if _, err := Table(t.TempDir(), "table3"); err == nil || !strings.Contains(err.Error(), "table3") {
		t.Errorf("unknown table: %v", err)
	}
	if _, err := Table(t.TempDir(), "table1"); err == nil || !strings.Contains(err.Error(), "just reproduce") {
		t.Errorf("missing tables: %v, want a hint to run just reproduce", err)
	}
	dir := writeTables(t, "method,MMLU\nRouterDC,abc\n", "method,MMLU\nRouterDC,0\n")
	_, err := Table(dir, "table1")
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), `"MMLU"`) {
		t.Errorf("bad number: %v, want the line and column", err)
	}
}

func TestCommittedResults(t *testing.T) {
	results := filepath.Join("..", "..", "results")
	if _, err := os.Stat(filepath.Join(results, "tables", "table1.csv")); err != nil {
		t.Skip("no committed results/tables")
	}
	for _, name := range []string{"table1", "table2"} {
		df, err := Table(results, name)
		if err != nil {
			t.Fatal(err)
		}
		// The candidate-LLM rows are computed from the data and equal the
		// paper's to the rounding of the published numbers.
		llm := Column(df, report.AvgColumn)
		for i := 0; i < llm.Nrow(); i++ {
			m := llm.Col("method").Elem(i).String()
			if m == "Mistral-7B" {
				if d := llm.Col("diff").Elem(i).Float(); math.Abs(d) > 0.011 {
					t.Errorf("%s %s Avg differs from the paper by %v", name, m, d)
				}
			}
		}
	}
	names, err := Sweeps(results)
	if err != nil || len(names) == 0 {
		t.Fatalf("sweeps %v, %v", names, err)
	}
	df, err := Ablation(results, "ablation-lambda")
	if err != nil {
		t.Fatal(err)
	}
	if df.Col("lambda").Type() != "string" || df.Col("id_mean").Type() != "float" {
		t.Errorf("types: lambda %s, id_mean %s", df.Col("lambda").Type(), df.Col("id_mean").Type())
	}
	if v := df.Col("id_mean").Elem(0).Float(); v < 30 || v > 80 {
		t.Errorf("lambda sweep first id_mean %v is not an accuracy", v)
	}
}

func TestDataFrames(t *testing.T) {
	dir := datatest.RequireDir(t)
	df, err := LLMAccuracy(dir)
	if err != nil {
		t.Fatal(err)
	}
	if df.Nrow() != len(data.Tasks) {
		t.Fatalf("%d rows, want %d", df.Nrow(), len(data.Tasks))
	}
	// Paper Table 1, Mistral-7B on MMLU (reference data): 62.14.
	if got := df.Col("Mistral-7B").Elem(0).Float(); math.Abs(got-62.14) > 0.006 {
		t.Errorf("Mistral-7B MMLU %.3f, want 62.14", got)
	}
	for i := 0; i < df.Nrow(); i++ {
		if o, b := df.Col("oracle").Elem(i).Float(), df.Col("best_llm_acc").Elem(i).Float(); o < b {
			t.Errorf("%s: oracle %v below the best LLM %v", df.Col("task").Elem(i), o, b)
		}
	}
	st, err := ScoreStats(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Nrow() != 5*7 {
		t.Fatalf("%d score rows, want 35 (5 training files x 7 LLMs)", st.Nrow())
	}
	for i := 0; i < st.Nrow(); i++ {
		sum := st.Col("share_0").Elem(i).Float() + st.Col("share_1").Elem(i).Float() + st.Col("share_between").Elem(i).Float()
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("row %d shares sum to %v", i, sum)
		}
	}
}

func TestCrosstab(t *testing.T) {
	df, err := Crosstab("task", []string{"b", "a", "b", "b"}, "g", []int{1, 0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(df.Names(), ","); got != "task,g0,g1,g2" {
		t.Fatalf("columns %s", got)
	}
	// Row "b" (first seen) has ids 1, 1, 2; row "a" has 0.
	want := [][]int{{0, 2, 1}, {1, 0, 0}}
	for r, row := range want {
		for c, v := range row {
			if got := df.Elem(r, c+1).Float(); int(got) != v {
				t.Errorf("cell (%d, g%d) = %v, want %d", r, c, got, v)
			}
		}
	}
	if _, err := Crosstab("task", []string{"a"}, "g", []int{0, 1}); err == nil {
		t.Error("length mismatch: want an error")
	}
}

func TestResults(t *testing.T) {
	df := Results([]*evaluate.TaskResult{
		{Task: "A", N: 10, Accuracy: 50}, {Task: "B", N: 5, Accuracy: 70}, {Task: "C", OOD: true, N: 3, Accuracy: 40},
	})
	if df.Nrow() != 5 {
		t.Fatalf("%d rows, want 3 tasks + 2 averages", df.Nrow())
	}
	if got := df.Col("accuracy").Elem(3).Float(); got != 60 {
		t.Errorf("ID Avg %v, want (50+70)/2 = 60", got)
	}
	if got := df.Col("accuracy").Elem(4).Float(); got != 40 {
		t.Errorf("OOD Avg %v, want 40", got)
	}
}

func TestCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(path, []byte("method,MMLU,Avg,Cost\norg/a,41.11,41.11,2e-05\nRouterDC,90.00,90.00,0.0001667\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	df, err := CSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := df.Dims(); r != 2 || c != 4 || df.Col("Cost").Float()[1] != 0.0001667 || df.Col("method").Records()[0] != "org/a" {
		t.Errorf("frame:\n%v", df)
	}
	if _, err := CSV(filepath.Join(t.TempDir(), "none.csv")); err == nil {
		t.Error("a missing file read")
	}
}
