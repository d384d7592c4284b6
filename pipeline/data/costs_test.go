package data

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestLoadCosts(t *testing.T) {
	// costs before scores, in another LLM order: placed by name.
	ds, err := Load(writeJSON(t, "c.json", `[
		{"costs": {"b": 0.002, "a": 0}, "question": "q0", "scores": {"a": 0.5, "b": 1}},
		{"question": "q1", "scores": {"a": 0, "b": 0.25}, "costs": {"a": 1e-5, "b": 3}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Queries[0].Costs, []float64{0, 0.002}) || !slices.Equal(ds.Queries[1].Costs, []float64{1e-5, 3}) {
		t.Errorf("costs %v %v", ds.Queries[0].Costs, ds.Queries[1].Costs)
	}
	// The released layout has none: nil, as before.
	ds, err = Load(writeJSON(t, "n.json", `[{"question": "q", "scores": {"a": 0.5}}]`))
	if err != nil || ds.Queries[0].Costs != nil {
		t.Errorf("no costs: %+v, %v", ds, err)
	}
}

func TestLoadCostErrors(t *testing.T) {
	with := `{"question": "q0", "scores": {"a": 0.5, "b": 1}, "costs": {"a": 1, "b": 2}}`
	without := `{"question": "q0", "scores": {"a": 0.5, "b": 1}}`
	for _, c := range []struct {
		name, content string
		record        int
		field, msg    string
	}{
		{"only later records", `[` + without + `, ` + with + `]`, 1, "costs", "present, but the first record has none"},
		{"only the first record", `[` + with + `, ` + without + `]`, 1, "costs", "missing, but the first record has costs"},
		{"one LLM lacks a cost", `[{"question": "q", "scores": {"a": 0.5, "b": 1}, "costs": {"a": 1}}]`, 0, "costs.b", "missing (costs are for every scored LLM)"},
		{"unknown LLM", `[{"question": "q", "scores": {"a": 0.5}, "costs": {"a": 1, "z": 1}}]`, 0, "costs.z", "not among the scored LLMs"},
		{"negative", `[{"question": "q", "scores": {"a": 0.5}, "costs": {"a": -1}}]`, 0, "costs.a", "cost -1 is negative"},
		{"string", `[{"question": "q", "scores": {"a": 0.5}, "costs": {"a": "1"}}]`, 0, "costs.a", "want a number of dollars"},
		{"null", `[{"question": "q", "scores": {"a": 0.5}, "costs": {"a": null}}]`, 0, "costs.a", "cost is null"},
		{"not an object", `[{"question": "q", "scores": {"a": 0.5}, "costs": [1]}]`, 0, "costs", "want an object"},
		{"twice", `[{"question": "q", "scores": {"a": 0.5}, "costs": {"a": 1, "a": 2}}]`, 0, "costs.a", "twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeJSON(t, "bad.json", c.content))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			if ve.Record != c.record || ve.Field != c.field || !strings.Contains(ve.Msg, c.msg) {
				t.Errorf("got %v; want record %d field %q msg %q", err, c.record, c.field, c.msg)
			}
		})
	}
}
