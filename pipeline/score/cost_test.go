package score

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data"
)

func TestRecordCostRoundTrip(t *testing.T) {
	c := 0.0021
	var b bytes.Buffer
	if err := WriteRecords(&b, []Record{{ID: "t/1", Question: "q", Score: 1, LLM: "a", Cost: &c}, {ID: "t/2", Question: "r", Score: 0, LLM: "a"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"cost":0.0021}`) || strings.Count(b.String(), "cost") != 1 {
		t.Errorf("written: %s", b.String())
	}
	recs, err := DecodeRecords("r.jsonl", &b)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Cost == nil || *recs[0].Cost != c || recs[1].Cost != nil {
		t.Errorf("read back %+v %+v", recs[0], recs[1])
	}

	neg := -1.0
	if err := (Record{ID: "t/1", Question: "q", Score: 1, Cost: &neg}).Check(); err == nil {
		t.Error("a negative cost passes Check")
	}
	_, err = DecodeRecords("r.jsonl", strings.NewReader(`{"id": "t/1", "question": "q", "score": 1, "cost": -2}`))
	mustFail(t, err, `r.jsonl: line 1: field "cost": -2 is negative`)
}

func TestMergeCarriesCosts(t *testing.T) {
	a := scoreFile(t, "a.jsonl",
		`{"id": "t/1", "question": "one", "score": 1, "llm": "a", "cost": 0.5}`,
		`{"id": "t/2", "question": "two", "score": 0, "llm": "a", "cost": 0}`)
	b := scoreFile(t, "b.jsonl",
		`{"id": "t/2", "question": "two", "score": 0.25, "llm": "b", "cost": 2}`,
		`{"id": "t/1", "question": "one", "score": 0.5, "llm": "b", "cost": 1e-7}`)
	m, err := Merge([]Input{{Path: a}, {Path: b}}, MergeOptions{LLMOrder: []string{"b", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "merged.json")
	if err := m.WriteDataset(out); err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Queries[0].Costs, []float64{1e-7, 0.5}) || !slices.Equal(ds.Queries[1].Costs, []float64{2, 0}) {
		t.Errorf("costs %v %v", ds.Queries[0].Costs, ds.Queries[1].Costs)
	}

	// One record without a cost: the dataset has none (all or none).
	c := scoreFile(t, "c.jsonl",
		`{"id": "t/2", "question": "two", "score": 0.25, "llm": "c"}`,
		`{"id": "t/1", "question": "one", "score": 0.5, "llm": "c", "cost": 1}`)
	m, err = Merge([]Input{{Path: a}, {Path: c}}, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows[0].Costs != nil || m.Rows[1].Costs != nil {
		t.Errorf("partial costs kept: %+v", m.Rows)
	}

	// A filled hole has no cost either.
	d := scoreFile(t, "d.jsonl", `{"id": "t/1", "question": "one", "score": 0.5, "llm": "d", "cost": 1}`)
	fill := 0.0
	m, err = Merge([]Input{{Path: a}, {Path: d}}, MergeOptions{Fill: &fill})
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows[0].Costs != nil {
		t.Errorf("costs kept with a filled hole: %+v", m.Rows)
	}
	// Dropping the incomplete query leaves complete costs.
	m, err = Merge([]Input{{Path: a}, {Path: d}}, MergeOptions{DropIncomplete: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rows) != 1 || !slices.Equal(m.Rows[0].Costs, []float64{0.5, 1}) {
		t.Errorf("after dropping: %+v", m.Rows)
	}
}
