package data

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// A UTF-8 byte order mark (Windows editors and PowerShell's Out-File write
// one) is accepted and stripped; it used to fail with "invalid character 'ï'".
func TestLoadAcceptsUTF8BOM(t *testing.T) {
	p := writeJSON(t, "bom.json", "\ufeff"+`[{"question": "q", "scores": {"a": 0.5}}]`)
	ds, err := Load(p)
	if err != nil {
		t.Fatalf("file with a UTF-8 BOM: %v", err)
	}
	if len(ds.Queries) != 1 || ds.Queries[0].Question != "q" || !slices.Equal(ds.LLMs, []string{"a"}) {
		t.Errorf("got %+v", ds)
	}
	// Byte positions in errors still count from the start of the file.
	_, err = Load(writeJSON(t, "bom_nan.json", "\ufeff"+`[{"question": "q", "scores": {"a": NaN}}]`))
	if err == nil || !strings.Contains(err.Error(), "value NaN at byte 38") {
		t.Errorf("NaN after a BOM: %v, want byte 38", err)
	}
}

// UTF-16 files are named as such instead of "invalid character 'ÿ'".
func TestLoadRejectsUTF16(t *testing.T) {
	_, err := Load(writeJSON(t, "utf16.json", "\xff\xfe[\x00]\x00"))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Record != -1 || !strings.Contains(ve.Msg, "UTF-16") {
		t.Fatalf("UTF-16 file: %v, want a ValidationError naming UTF-16", err)
	}
}

// Non-UTF-8 text used to be accepted silently, each bad byte turned into
// U+FFFD by encoding/json: the router then learned from mangled text.
func TestLoadRejectsInvalidUTF8(t *testing.T) {
	cases := []struct {
		name, content string
		record        int
		field, msg    string
	}{
		{"Latin-1 question", `[` + good + `, {"question": "caf` + "\xe9" + `", "scores": {"a": 0.5, "b": 0}}]`,
			1, "question", "not valid UTF-8 (byte 0xe9 at byte 68)"},
		{"truncated sequence", `[{"question": "` + "\xe4\xb8" + `", "scores": {"a": 0.5}}]`,
			0, "question", "not valid UTF-8"},
		{"LLM name", `[{"question": "q", "scores": {"` + "\xff" + `": 0.5}}]`,
			0, "scores", "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeJSON(t, "latin1.json", c.content)
			ds, err := Load(p)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load = %+v, %v; want a ValidationError", ds, err)
			}
			if ve.File != p || ve.Record != c.record || ve.Field != c.field || !strings.Contains(ve.Msg, c.msg) {
				t.Errorf("got {Record:%d Field:%q Msg:%q}, want {Record:%d Field:%q Msg contains %q}",
					ve.Record, ve.Field, ve.Msg, c.record, c.field, c.msg)
			}
		})
	}
	// Valid multi-byte text and JSON escapes (even of U+FFFD itself) pass.
	ds, err := Load(writeJSON(t, "ok.json", `[{"question": "下列 caf\u00e9 \ufffd `+"é"+`", "scores": {"a": 0.5}}]`))
	if err != nil || ds.Queries[0].Question != "下列 café \ufffd é" {
		t.Errorf("valid UTF-8: %+v, %v", ds, err)
	}
}

// Duplicate questions are accepted, each record kept in file order with its
// own scores, because the released files have them legitimately: the same
// MMLU and C-Eval question appears twice in a test set, sometimes with
// different scores (mmlu_test records 481 and 755, ceval 435 and 484).
func TestLoadKeepsDuplicateQuestions(t *testing.T) {
	p := writeJSON(t, "dup.json", `[
		{"question": "same", "scores": {"a": 0.5, "b": 0}},
		{"question": "other", "scores": {"a": 1, "b": 1}},
		{"question": "same", "scores": {"a": 0, "b": 0.25}},
		{"question": "same", "scores": {"a": 0.5, "b": 0}}
	]`)
	ds, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{0.5, 0}, {1, 1}, {0, 0.25}, {0.5, 0}}
	if len(ds.Queries) != len(want) {
		t.Fatalf("%d records, want %d", len(ds.Queries), len(want))
	}
	for i, q := range ds.Queries {
		if !slices.Equal(q.Scores, want[i]) {
			t.Errorf("record %d scores %v, want %v", i, q.Scores, want[i])
		}
	}
}
