package report

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
)

// roundsTo reports whether x, rounded to 2 decimals as the paper prints,
// gives paper (the epsilon absorbs float noise at the rounding boundary).
func roundsTo(x, paper float64) bool { return math.Abs(x-paper) <= 0.005+1e-9 }

func TestPaperTablesShape(t *testing.T) {
	for _, c := range []struct {
		table PaperTable
		tasks []data.Task
	}{{PaperTable1, data.IDTasks()}, {PaperTable2, data.OODTasks()}} {
		var want []string
		for _, task := range c.tasks {
			want = append(want, task.Name)
		}
		want = append(want, AvgColumn)
		if !slices.Equal(c.table.Columns, want) {
			t.Errorf("%s: columns %v, want the task names %v", c.table.Title, c.table.Columns, want)
		}
		if len(c.table.Rows) != 12 {
			t.Errorf("%s: %d rows, want 7 LLMs + 4 baselines + RouterDC", c.table.Title, len(c.table.Rows))
		}
		for _, llm := range data.LLMs {
			if r, ok := c.table.Row(data.ShortName(llm)); !ok || r.Kind != KindLLM {
				t.Errorf("%s: no LLM row for %s", c.table.Title, data.ShortName(llm))
			}
		}
		if v, ok := c.table.Value("RouterDC", AvgColumn); !ok || v < 45 {
			t.Errorf("%s: RouterDC Avg = %v, %v", c.table.Title, v, ok)
		}
	}
}

// The paper's Avg column is the unweighted mean of its task columns; a
// mismatch here would be a typo in paper.go (or in the paper).
func TestPaperAvgIsMeanOfTasks(t *testing.T) {
	for _, table := range []PaperTable{PaperTable1, PaperTable2} {
		for _, r := range table.Rows {
			var sum float64
			for _, c := range table.Columns[:len(table.Columns)-1] {
				sum += r.Values[c]
			}
			mean := sum / float64(len(table.Columns)-1)
			// Each printed value is rounded, so the mean may be off by 0.005
			// more than the printed average's own rounding.
			if math.Abs(mean-r.Values[AvgColumn]) > 0.01+1e-9 {
				t.Errorf("%s / %s: Avg %.2f, mean of the tasks %.4f", table.Title, r.Method, r.Values[AvgColumn], mean)
			}
		}
	}
}

func loadTests(t *testing.T) map[string]*data.Dataset {
	t.Helper()
	dir := datatest.RequireDir(t)
	out := map[string]*data.Dataset{}
	for _, task := range data.Tasks {
		ds, err := data.Load(filepath.Join(dir, task.Test))
		if err != nil {
			t.Fatal(err)
		}
		out[task.Name] = ds
	}
	return out
}

// Every candidate-LLM cell of Tables 1 and 2 (7 LLMs x 8 tasks) and the LLM
// rows' averages follow from the released scores and the metric alone: this
// pins down the data, the LLM order and the metric together.
func TestPaperLLMCellsReproduce(t *testing.T) {
	sets := loadTests(t)
	cells := 0
	for _, c := range []struct {
		table PaperTable
		tasks []data.Task
	}{{PaperTable1, data.IDTasks()}, {PaperTable2, data.OODTasks()}} {
		for _, llmID := range data.LLMs {
			name := data.ShortName(llmID)
			var sum float64
			for _, task := range c.tasks {
				ds := sets[task.Name]
				llm := slices.Index(ds.LLMs, llmID)
				got := evaluate.LLMAccuracy(ds, task.Metric, llm)
				sum += got
				want, _ := c.table.Value(name, task.Name)
				cells++
				if !roundsTo(got, want) {
					t.Errorf("%s on %s: computed %.4f, paper %.2f", name, task.Name, got, want)
				}
			}
			avg := sum / float64(len(c.tasks))
			if want, _ := c.table.Value(name, AvgColumn); math.Abs(avg-want) > 0.01+1e-9 {
				t.Errorf("%s %s average: computed %.4f, paper %.2f", name, c.table.Title, avg, want)
			}
		}
	}
	if cells != 56 {
		t.Errorf("checked %d cells, want 56", cells)
	}
}

func TestReferencePointsReproduce(t *testing.T) {
	sets := loadTests(t)
	avg := func(tasks []data.Task, f func(*data.Dataset, data.Metric) float64) float64 {
		var s float64
		for _, task := range tasks {
			s += f(sets[task.Name], task.Metric)
		}
		return s / float64(len(tasks))
	}
	taskOracle := func(ds *data.Dataset, m data.Metric) float64 {
		_, acc := evaluate.BestLLMAccuracy(ds, m)
		return acc
	}
	compute := map[string]func(*data.Dataset, data.Metric) float64{
		"oracle":      evaluate.OracleAccuracy,
		"task oracle": taskOracle,
		"random":      evaluate.RandomAccuracy,
	}
	if len(ReferencePoints) != len(compute) {
		t.Fatalf("%d reference points, want %d", len(ReferencePoints), len(compute))
	}
	for _, ref := range ReferencePoints {
		f := compute[ref.Name]
		id, ood := avg(data.IDTasks(), f), avg(data.OODTasks(), f)
		t.Logf("%-11s ID %.3f (spec %.2f)  OOD %.3f (spec %.2f)", ref.Name, id, ref.ID, ood, ref.OOD)
		if !roundsTo(id, ref.ID) || !roundsTo(ood, ref.OOD) {
			t.Errorf("%s: computed ID %.4f OOD %.4f, spec ID %.2f OOD %.2f", ref.Name, id, ood, ref.ID, ref.OOD)
		}
	}
}
