package lmeval

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/score"
	"github.com/routerdc-go/routerdc/pipeline/score/answer"
)

const mmluQuestion = "Which gas do plants absorb for photosynthesis?\nA. Oxygen\nB. Carbon dioxide\nC. Nitrogen\nD. Helium"

func td(name string) string { return filepath.Join("testdata", name) }

func checkRecords(t *testing.T, label string, got []score.Record, want []score.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d: %+v", label, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Question != w.Question || g.LLM != w.LLM || g.Task != w.Task || math.Abs(g.Score-w.Score) > 1e-9 {
			t.Errorf("%s record %d:\n got %+v\nwant %+v", label, i, g, w)
		}
		if err := g.Check(); err != nil {
			t.Errorf("%s record %d: %v", label, i, err)
		}
	}
}

// TestSpecExamplesMC imports the spec's multiple-choice example in both
// layouts: the v0.4.2 JSON array with native types and integer target, and
// the v0.4.9 JSON lines with string leaves and target "1".
func TestSpecExamplesMC(t *testing.T) {
	// ll = [-2.3, -0.25, -3.1, -4.0], target 1 = argmax:
	// exp(-2.3)=0.10025884372280375, exp(-0.25)=0.7788007830714049,
	// exp(-3.1)=0.0450492023935578, exp(-4.0)=0.01831563888873418,
	// sum = 0.9424244680765006, score = 0.7788007830714049/0.9424244680765006.
	const want = 0.8263800542667853
	if f := math.Exp(-0.25) / (math.Exp(-2.3) + math.Exp(-0.25) + math.Exp(-3.1) + math.Exp(-4.0)); math.Abs(f-want) > 1e-15 {
		t.Fatalf("hand arithmetic %v != %v", f, want)
	}
	var byLayout [][]score.Record
	for _, f := range []string{"mc_v042.json", "mc_v049.jsonl"} {
		recs, err := Import(td(f), Options{Task: "mmlu_high_school_biology", LLM: "org/model"})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkRecords(t, f, recs, []score.Record{{ID: "MMLU/high_school_biology/0", Question: mmluQuestion, Score: want, LLM: "org/model", Task: "MMLU"}})
		byLayout = append(byLayout, recs)
	}
	if !reflect.DeepEqual(byLayout[0], byLayout[1]) {
		t.Errorf("the two layouts import differently:\n%+v\n%+v", byLayout[0], byLayout[1])
	}
	// The table name gives the short id.
	recs, err := Import(td("mc_v042.json"), Options{Task: "MMLU"})
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].ID != "MMLU/0" {
		t.Errorf("id %q, want MMLU/0", recs[0].ID)
	}
}

// TestSpecExampleGSM8K imports the spec's v0.4.9 GSM8K example: two filter
// copies of doc 0 become one record, scored over all three repeats.
func TestSpecExampleGSM8K(t *testing.T) {
	for _, mode := range []answer.Mode{answer.RouterDC, answer.Normalized, ""} {
		recs, err := Import(td("gsm8k_v049.jsonl"), Options{Task: "gsm8k", LLM: "m", Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		// Generations end "#### 10", "#### 10", "#### 5"; the target "#### 10".
		checkRecords(t, "gsm8k_v049 "+string(mode), recs, []score.Record{{ID: "GSM8K/0",
			Question: "Tom has 3 boxes of 4 apples and eats 2. How many are left?", Score: 2.0 / 3, LLM: "m", Task: "GSM8K"}})
	}
}

func TestImport(t *testing.T) {
	e := math.Exp
	tests := []struct {
		file string
		opts Options
		want []score.Record
	}{
		{"gsm8k_v042.json", Options{Task: "GSM8K", Mode: answer.RouterDC}, []score.Record{
			{ID: "GSM8K/0", Question: "Tom has 3 boxes of 4 apples and eats 2. How many are left?", Score: 2.0 / 3},
			// "#### 1000" and "#### 1,000" against "#### 1,000": RouterDC's
			// string match counts one of two.
			{ID: "GSM8K/1", Question: "A farm has 400 hens that lay 2.5 eggs each. How many eggs?", Score: 0.5},
		}},
		{"gsm8k_v042.json", Options{Task: "GSM8K", Mode: answer.Normalized}, []score.Record{
			{ID: "GSM8K/0", Question: "Tom has 3 boxes of 4 apples and eats 2. How many are left?", Score: 2.0 / 3},
			{ID: "GSM8K/1", Question: "A farm has 400 hens that lay 2.5 eggs each. How many eggs?", Score: 1},
		}},
		// 12 options, gen_args_* keys stored in text order, target given as
		// the gold text "option 10": only numeric ordering finds option 10,
		// the argmax (-0.1 against eleven -5.0):
		// e^-0.1/(e^-0.1 + 11 e^-5) = 0.9048374180359595/0.9789548350258996.
		{"arc_textgold_v049.jsonl", Options{Task: "arc_challenge"}, []score.Record{
			{ID: "ARC-C/3", Question: "Question:Which option is number ten?\nAnswer:", Score: 0.9242892375234254},
		}},
		// Letter target "B". Doc 0: e^-0.7/(e^-1.2+e^-0.7+e^-2+e^-2.5) =
		// 0.4965853037914095/1.0151997975641232. Doc 1: options A and B tie
		// at -0.9; the first (A) is the argmax, so target B scores 0.
		{"cmmlu_letter_v049.jsonl", Options{Task: "cmmlu_chinese_foreign_policy"}, []score.Record{
			{ID: "CMMLU/chinese_foreign_policy/0", Question: "中国的首都是哪里？\nA. 上海\nB. 北京\nC. 广州\nD. 深圳\n答案：",
				Score: 0.4891503179796917},
			{ID: "CMMLU/chinese_foreign_policy/1", Question: "中国的首都是哪里？\nA. 上海\nB. 北京\nC. 广州\nD. 深圳\n答案：", Score: 0},
		}},
		// Python's bare -Infinity for option A: probability 0.
		// e^-0.5/(e^-0.5+e^-1.5+e^-3) = 0.6065306597126334/0.8794478882289272.
		{"ceval_neginf_v042.json", Options{Task: "ceval-valid_basic_medicine"}, []score.Record{
			{ID: "C-EVAL/basic_medicine/0", Question: "1+1=____\nA. 1\nB. 2\nC. 3\nD. 4答案：", Score: 0.6896720861245036},
		}},
		// Task from the v0.4.3+ file name. Doc 0: one of two samples right.
		// Doc 1: "\boxed{0.5}" only counts with the boxed fallback;
		// "\frac12" equals the gold \dfrac{1}{2} in both modes.
		{"samples_minerva_math_prealgebra_2024-06-01T10-20-30.123456.jsonl", Options{Mode: answer.RouterDC}, []score.Record{
			{ID: "PreAlgebra/0", Question: "What is the smallest multiple of $5$ which is greater than $-32$?", Score: 0.5},
			{ID: "PreAlgebra/1", Question: "What is $\\frac{1}{4} + \\frac{1}{4}$?", Score: 0.5},
		}},
		{"samples_minerva_math_prealgebra_2024-06-01T10-20-30.123456.jsonl", Options{}, []score.Record{
			{ID: "PreAlgebra/0", Question: "What is the smallest multiple of $5$ which is greater than $-32$?", Score: 0.5},
			{ID: "PreAlgebra/1", Question: "What is $\\frac{1}{4} + \\frac{1}{4}$?", Score: 1},
		}},
	}
	for _, tt := range tests {
		recs, err := Import(td(tt.file), tt.opts)
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		for i := range tt.want {
			// The table name is the id's first part.
			tt.want[i].Task = strings.SplitN(tt.want[i].ID, "/", 2)[0]
		}
		checkRecords(t, tt.file+" "+string(tt.opts.Mode), recs, tt.want)
	}
	// The hand-computed constants above, recomputed.
	for _, c := range []struct{ got, want float64 }{
		{e(-0.1) / (e(-0.1) + 11*e(-5)), 0.9242892375234254},
		{e(-0.7) / (e(-1.2) + e(-0.7) + e(-2) + e(-2.5)), 0.4891503179796917},
		{e(-0.5) / (e(-0.5) + e(-1.5) + e(-3)), 0.6896720861245036},
	} {
		if math.Abs(c.got-c.want) > 1e-15 {
			t.Errorf("hand arithmetic %v != %v", c.got, c.want)
		}
	}
}

func TestReadSamplesDeduplicates(t *testing.T) {
	for _, f := range []string{"gsm8k_v049.jsonl", "gsm8k_v042.json"} {
		s, err := ReadSamples(td(f))
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range s {
			if x.DocID != i {
				t.Errorf("%s: sample %d has doc_id %d", f, i, x.DocID)
			}
		}
	}
	s, err := ReadSamples(td("gsm8k_v042.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].At != "record 0" || s[1].At != "record 1" || len(s[0].Resps[0]) != 3 {
		t.Errorf("got %d samples at %q/%q", len(s), s[0].At, s[1].At)
	}
	// Both layouts of arguments come out as ordered [context, continuation].
	for _, f := range []string{"mc_v042.json", "mc_v049.jsonl"} {
		s, err := ReadSamples(td(f))
		if err != nil {
			t.Fatal(err)
		}
		var conts []any
		for _, a := range s[0].Arguments {
			conts = append(conts, a[1])
		}
		if !reflect.DeepEqual(conts, []any{" A", " B", " C", " D"}) {
			t.Errorf("%s: continuations %v", f, conts)
		}
	}
}

func TestImportErrors(t *testing.T) {
	mc := Options{Task: "MMLU"}
	tests := []struct {
		file   string
		opts   Options
		record string
		field  string
		msg    string
	}{
		{"err_malformed.jsonl", mc, "line 2", "", "malformed JSON"},
		{"err_truncated.jsonl", mc, "line 3", "", "truncated"},
		{"err_truncated_array.json", mc, "record 1", "", "truncated"},
		{"err_unclosed_array.json", mc, "record 2", "", "not closed"},
		{"err_not_object.jsonl", mc, "line 2", "", "not a JSON object"},
		{"err_missing_doc_id.jsonl", mc, "line 2", "doc_id", "missing"},
		{"err_missing_doc.jsonl", mc, "line 1", "doc", "missing"},
		{"err_missing_resps.jsonl", mc, "line 1", "resps", "missing"},
		{"err_missing_target.jsonl", mc, "line 1", "target", "missing"},
		{"err_null_target.jsonl", mc, "line 1", "target", "missing"},
		{"err_missing_arguments.jsonl", mc, "line 1", "arguments", "missing"},
		{"err_nonnumeric.jsonl", mc, "line 2", "resps[2][0][0]", `"abc" is not a number`},
		{"err_option_count.jsonl", mc, "line 1", "resps", "3 responses for 4 requests"},
		{"err_doc_options.jsonl", mc, "line 1", "resps", "the doc has 3 options"},
		{"err_nan.jsonl", mc, "line 1", "resps[1][0][0]", "NaN loglikelihood"},
		{"err_nan_v042.json", mc, "record 0", "resps[1][0][0]", "NaN loglikelihood"},
		{"err_all_neginf_v042.json", mc, "record 0", "resps", "-Inf"},
		{"err_doc_field.jsonl", mc, "line 1", "doc.choices", "missing"},
		{"err_target_range.jsonl", mc, "line 1", "target", "out of range"},
		{"err_target_text.jsonl", mc, "line 1", "target", "nor is it one of the continuations"},
		{"err_gen_args_gap.jsonl", mc, "line 1", "arguments.gen_args_4", "indices must be 0..3"},
		{"err_gen_args_key.jsonl", mc, "line 1", "arguments.args_3", "unexpected key"},
		{"err_conflict.jsonl", Options{Task: "gsm8k"}, "line 2", "resps", "differs from the other record of doc_id 0 (line 1)"},
		{"err_gen_not_string.jsonl", Options{Task: "gsm8k"}, "line 1", "resps[0][1]", "not a generated string"},
		{"err_gsm8k_answer.jsonl", Options{Task: "gsm8k", Mode: answer.RouterDC}, "line 1", "doc.answer", "####"},
		// An MMLU log read as GSM8K: its doc's answer is an index.
		{"mc_v049.jsonl", Options{Task: "gsm8k"}, "line 1", "doc.answer", "is a number, want a string"},
	}
	for _, tt := range tests {
		path := td(tt.file)
		_, err := Import(path, tt.opts)
		var se *score.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: err %v, want a *score.Error", tt.file, err)
			continue
		}
		if se.File != path || se.Record != tt.record || se.Field != tt.field || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("%s: got %q\nwant record %q, field %q, message containing %q", tt.file, err, tt.record, tt.field, tt.msg)
		}
	}
}

func TestImportOptionErrors(t *testing.T) {
	if _, err := Import(td("mc_v042.json"), Options{Task: "hellaswag"}); err == nil {
		t.Error("unknown task accepted")
	}
	if _, err := Import(td("mc_v042.json"), Options{}); err == nil || !strings.Contains(err.Error(), "set the task") {
		t.Errorf("no task and no task in the file name: %v", err)
	}
	if _, err := Import(td("gsm8k_v049.jsonl"), Options{Task: "gsm8k", Mode: "fuzzy"}); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, err := Import(td("mc_v049.jsonl"), Options{Task: "humaneval"}); err == nil || !strings.Contains(err.Error(), "bigcode") {
		t.Errorf("code task: %v", err)
	}
	if _, err := Import(td("no_such_file.jsonl"), Options{Task: "MMLU"}); err == nil {
		t.Error("missing file accepted")
	}
}

func TestImportFiles(t *testing.T) {
	recs, err := ImportFiles([]string{td("mc_v042.json"), td("gsm8k_v049.jsonl")}, Options{Task: ""})
	if err == nil {
		t.Errorf("no task for mc_v042.json, got %v", recs)
	}
	recs, err = ImportFiles([]string{td("mc2_v042.json"), td("arc_textgold_v049.jsonl")}, Options{Task: "MMLU"})
	if err == nil {
		t.Errorf("ARC file read as MMLU: got %v", recs)
	}
	// Same subtask twice: the ids collide.
	_, err = ImportFiles([]string{td("mc_v042.json"), td("mc_v049.jsonl")}, Options{Task: "mmlu_high_school_biology"})
	if err == nil || !strings.Contains(err.Error(), "MMLU/high_school_biology/0 is also in") {
		t.Errorf("duplicate ids: %v", err)
	}
	// Tasks inferred per file (an old-layout name and a v0.4.3+ name).
	recs, err = ImportFiles([]string{td("pretrained____m__Mistral-7B-v0.1_mmlu_high_school_biology.jsonl"),
		td("samples_minerva_math_prealgebra_2024-06-01T10-20-30.123456.jsonl")}, Options{LLM: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID+" "+r.Task+" "+r.LLM)
	}
	if want := []string{"MMLU/high_school_biology/0 MMLU m", "PreAlgebra/0 PreAlgebra m", "PreAlgebra/1 PreAlgebra m"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ImportFiles ids %q, want %q", ids, want)
	}

	recs, err = ImportFiles([]string{td("mc2_v042.json"), td("samples_minerva_math_prealgebra_2024-06-01T10-20-30.123456.jsonl")},
		Options{Task: "MMLU"})
	if err == nil {
		t.Errorf("MATH file read as MMLU: got %v", recs)
	}
}

func TestInferTask(t *testing.T) {
	tests := map[string]string{
		"out/model/samples_mmlu_anatomy_2024-06-20T11-23-45.123456.jsonl":                                                   "mmlu_anatomy",
		"samples_gsm8k_2024-06-20T11-23-45.123456.jsonl":                                                                    "gsm8k",
		"samples_ceval-valid_law_2024-06-20T11-23-45.jsonl":                                                                 "ceval-valid_law",
		"pretrained____data__home__chensh__data__huggingface_model__mistralai__Mistral-7B-v0.1_mmlu_abstract_algebra.jsonl": "mmlu_abstract_algebra",
		"pretrained____models__itpossible__Chinese-Mistral-7B-v0.1_cmmlu_agronomy.jsonl":                                    "cmmlu_agronomy",
		"pretrained____m__Meta-Llama-3-8B_arc_challenge.jsonl":                                                              "arc_challenge",
		"pretrained____m__Meta-Llama-3-8B_minerva_math_algebra.jsonl":                                                       "minerva_math_algebra",
		// "prealgebra" alone already names the task.
		"pretrained____m__Meta-Llama-3-8B_minerva_math_prealgebra.jsonl": "prealgebra",
		"pretrained____m__zephyr-7b-beta_gsm8k_train.jsonl":              "gsm8k_train",
		"pretrained____m__gsm8k-tuned_mmlu_anatomy.jsonl":                "mmlu_anatomy",
	}
	for in, want := range tests {
		got, err := InferTask(in)
		if err != nil || got != want {
			t.Errorf("InferTask(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"results.json", "samples_hellaswag_2024-06-20T11-23-45.jsonl"} {
		if got, err := InferTask(bad); err == nil {
			t.Errorf("InferTask(%q) = %q, want an error", bad, got)
		}
	}
}

func TestPythonConstants(t *testing.T) {
	tests := map[string]string{
		`[NaN, -Infinity, Infinity, 1]`:      `["NaN", "-Infinity", "Infinity", 1]`,
		`{"q": "NaN in a string", "x": NaN}`: `{"q": "NaN in a string", "x": "NaN"}`,
		`{"q": "esc \" NaN", "x": -1.5}`:     `{"q": "esc \" NaN", "x": -1.5}`,
		`{"q": "\\", "x": Infinity}`:         `{"q": "\\", "x": "Infinity"}`,
	}
	for in, want := range tests {
		if got := string(pythonConstants([]byte(in))); got != want {
			t.Errorf("pythonConstants(%s) = %s, want %s", in, got, want)
		}
	}
}

// Several subject files under the umbrella task keep their ids apart by the
// subject in each file name.
func TestImportFilesSubjects(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "mc_v049.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, subj := range []string{"anatomy", "astronomy"} {
		p := filepath.Join(dir, "samples_mmlu_"+subj+"_2024-06-01T10-20-30.123456.jsonl")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	recs, err := ImportFiles(paths, Options{Task: "MMLU", LLM: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != "MMLU/anatomy/0" || recs[1].ID != "MMLU/astronomy/0" {
		t.Errorf("ids %v, want MMLU/anatomy/0 and MMLU/astronomy/0", recs)
	}
	// Without subjects in the names the ids collide, and the error says what to do.
	p := filepath.Join(dir, "x.jsonl")
	os.WriteFile(p, b, 0o644)
	if _, err := ImportFiles([]string{paths[0], p, p}, Options{Task: "MMLU", LLM: "m"}); err == nil || !strings.Contains(err.Error(), "is also in") {
		t.Errorf("colliding ids: %v", err)
	}
}
