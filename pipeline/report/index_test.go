package report

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// checkIndexed fails for every file under out's tables/ and figures/ that
// index (out/README.md's text) does not link.
func checkIndexed(t *testing.T, out, index string) {
	t.Helper()
	for _, dir := range []string{"tables", "figures"} {
		entries, err := os.ReadDir(filepath.Join(out, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if link := "](" + dir + "/" + e.Name() + ")"; !strings.Contains(index, link) {
				t.Errorf("the index of %s does not list %s/%s", out, dir, e.Name())
			}
		}
	}
}

// TestIndexListsEveryFile: every file the report writes under tables/ and
// figures/ gets a row, the known ones with their own note, files it does
// not know yet (a new figure, another dataset's tables) with a generic one.
func TestIndexListsEveryFile(t *testing.T) {
	out := t.TempDir()
	files := []string{"tables/table1.csv", "tables/table1_std.csv", "tables/table1.md", "tables/summary.md",
		"tables/own-id.csv", "tables/own-manifest.json", "figures/score-gap.png", "figures/new-figure.png",
		"figures/ablation-h.png", "validation/validation-ours.csv", "manifest.json"}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Join(out, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, f), []byte("## Averages\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteIndex(out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	index := string(b)
	checkIndexed(t, out, index)
	for _, want := range []string{"[manifest.json](manifest.json)", "[validation/validation-ours.csv]",
		"| [tables/table1_std.csv](tables/table1_std.csv) | Table 1 standard deviations over seeds |",
		"| [tables/own-id.csv](tables/own-id.csv) | tables declaration own: in-distribution table, means over seeds |",
		"## Averages", SettingsNote()} {
		if !strings.Contains(index, want) {
			t.Errorf("index lacks %q:\n%s", want, index)
		}
	}
	if strings.Index(index, "tables/table1.md") > strings.Index(index, "tables/summary.md") {
		t.Errorf("the index lists the tables out of order:\n%s", index)
	}
}

// TestResultsIndexIsCurrent: the committed results/README.md is what the
// report writes from the committed results (every file listed, every
// sweep's reading computed from its CSV). -update rewrites it.
func TestResultsIndexIsCurrent(t *testing.T) {
	results := filepath.Join(repoRoot(t), "results")
	want, err := IndexText(results)
	if err != nil {
		t.Fatal(err)
	}
	checkIndexed(t, results, want)
	path := filepath.Join(results, "README.md")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) == want {
		return
	}
	if *update {
		if err := atomicfile.Write(path, []byte(want)); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("results/README.md is not what the report writes from results/: rerun `just reproduce` (warm) or "+
		"`go test ./pipeline/report -run TestResultsIndexIsCurrent -update`; it should read:\n%s", want)
}

func TestSweepReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep.csv")
	csv := "k_pos,k_neg,seeds,id_mean,id_std,ood_mean,ood_std,MMLU\n" +
		"1,1,3,55.58,0.10,43.00,0.20,60\n" +
		"2,1,3,56.99,0.30,44.21,0.40,61\n" +
		"3,1,3,56.99,0.30,45.00,0.40,62\n" +
		"4,1,1,56.00,,44.00,,63\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	got := SweepReading(path)
	want := "best ID average 56.99 at k_pos=2, k_neg=1 (OOD 44.21, 3 seeds); the 4 settings' ID averages span 55.58-56.99"
	if got != want {
		t.Errorf("reading\n%q, want\n%q", got, want)
	}
	cells, err := SweepCells(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := cells[3]; c.Seeds != 1 || !math.IsNaN(c.IDStd) || c.OOD != 44 {
		t.Errorf("one-seed cell %+v: want 1 seed, no std, OOD 44", c)
	}
	if err := os.WriteFile(path, []byte("lambda,seeds,id_mean,id_std,ood_mean,ood_std\n0,3,x,1,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := SweepCells(path); err == nil || !strings.Contains(err.Error(), "line 2: field id_mean") {
		t.Errorf("bad number: %v, want an error naming line 2 and id_mean", err)
	}
}

// readmeSweeps maps the bold names of the top README's "### Ablations"
// bullets to the sweep each quotes.
var readmeSweeps = map[string]string{
	"lambda":                          "ablation-lambda",
	"K+ x K-":                         "ablation-k",
	"clusters N":                      "ablation-clusters",
	"groups":                          "ablation-groups",
	"H":                               "ablation-h",
	"steps":                           "ablation-steps",
	"samples per task":                "ablation-samples",
	"removing one LLM at inference":   "ablation-llms",
	"first k LLMs":                    "ablation-llms-k",
	"target":                          "ablation-target",
	"encoder":                         "ablation-encoder",
	"ZOOTER + the sample-sample loss": "ablation-zooter-ss",
}

// TestREADMEAblationNumbers: every accuracy the top README's "### Ablations"
// section quotes (a number like 56.47 or 56.6) is an ID or OOD average of the
// sweep its bullet names, in the committed results/ablations CSV, rounded
// as quoted.
func TestREADMEAblationNumbers(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n### Ablations")
	if i < 0 {
		t.Fatal("README.md has no ### Ablations section")
	}
	s = s[i+1:]
	if j := strings.Index(s[1:], "\n#"); j >= 0 {
		s = s[:j+1]
	}
	bold := regexp.MustCompile(`\*\*([^*]+)\*\*`)
	number := regexp.MustCompile(`\b\d{2}\.\d{1,2}\b`)
	marks := bold.FindAllStringSubmatchIndex(s, -1)
	if len(marks) == 0 {
		t.Fatal("no **sweep** bullets in the Ablations section")
	}
	if pre := number.FindAllString(s[:marks[0][0]], -1); len(pre) > 0 {
		t.Errorf("numbers %v before the first named sweep", pre)
	}
	checked := 0
	for k, m := range marks {
		name := strings.Join(strings.Fields(s[m[2]:m[3]]), " ")
		end := len(s)
		if k+1 < len(marks) {
			end = marks[k+1][0]
		}
		sweep, ok := readmeSweeps[name]
		if !ok {
			t.Errorf("**%s** names no known sweep: add it to readmeSweeps", name)
			continue
		}
		cells, err := SweepCells(filepath.Join(root, "results", "ablations", sweep+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range number.FindAllString(s[m[1]:end], -1) {
			checked++
			v, _ := strconv.ParseFloat(q, 64)
			decimals := len(q) - strings.Index(q, ".") - 1
			found := false
			for _, c := range cells {
				for _, x := range []float64{c.ID, c.OOD} {
					if strconv.FormatFloat(x, 'f', decimals, 64) == strconv.FormatFloat(v, 'f', decimals, 64) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("README's **%s** quotes %s, which is no ID or OOD average of results/ablations/%s.csv", name, q, sweep)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d numbers checked; the section's layout changed?", checked)
	}
}
