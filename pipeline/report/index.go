package report

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// figureNotes say what each figure shows (the reading of the numbers is in
// the tables and sweep CSVs beside them).
var figureNotes = map[string]string{
	"score-normalization.png": "one training query's LLM scores, raw and softmax-normalised: normalisation hides how close the best LLMs are",
	"score-gap.png":           "histogram of the gap between the top-2 LLM scores over the training queries; the title gives the share below 0.1 (the paper: 64%)",
	"routing-heatmap.png":     "share of each task's test queries that RouterDC (seed 1) sends to each LLM",
	"training-curves.png":     "RouterDC (seed 1): loss (moving average), training-set and ID-test routing accuracy at each checkpoint evaluation (the checkpoint is chosen on the training set only)",
	"tsne-embeddings.png":     "t-SNE of trained query embeddings coloured by task, without and with the sample-sample loss",
}

// WriteIndex writes out/README.md: every table, figure and sweep under out
// with a line on what it shows, and for sweeps the best value found.
func WriteIndex(out string) error {
	var b strings.Builder
	b.WriteString("# Results\n\nWritten by `routerdc reproduce` and `routerdc run` (`just reproduce`, `just ablate`); do not edit by hand. ")
	b.WriteString("Our encoder is the offline hashed n-gram encoder, not mDeBERTa; paper values are the published numbers.\n\n")
	if _, err := os.Stat(filepath.Join(out, "tables", "summary.md")); err == nil {
		s, _ := os.ReadFile(filepath.Join(out, "tables", "summary.md"))
		b.Write(s)
		b.WriteString("\n")
	}
	b.WriteString("## Files\n\n| file | what it shows |\n|---|---|\n")
	row := func(path, note string) { fmt.Fprintf(&b, "| [%s](%s) | %s |\n", path, path, note) }
	for _, f := range []struct{ path, note string }{
		{"tables/table1.md", "Table 1 (in-distribution tasks): every cell ours ± std / paper / difference"},
		{"tables/table2.md", "Table 2 (out-of-distribution tasks), likewise"},
		{"tables/table1.csv", "Table 1 means over seeds (`table1_std.csv`: standard deviations)"},
		{"tables/table2.csv", "Table 2 means over seeds (`table2_std.csv`: standard deviations)"},
		{"manifest.json", "the last tables run: seeds, settings, versions, per-run accuracies, training curves, bootstrap (its timings and cache hits: `manifest.run.json`, not committed)"},
		{"tables/summary.md", "the headline averages beside the paper's, our groups' alignment, the bootstrap (shown above)"},
		{"validation/validation-ours.csv", "how the paper declaration's ours rows were chosen: each configuration's accuracy on validation splits of the training files, ranked"},
	} {
		if _, err := os.Stat(filepath.Join(out, f.path)); err == nil {
			row(f.path, f.note)
		}
	}
	figs, _ := filepath.Glob(filepath.Join(out, "figures", "*.png"))
	sort.Strings(figs)
	for _, f := range figs {
		name := filepath.Base(f)
		note := figureNotes[name]
		if strings.HasPrefix(name, "ablation-") {
			note = "sweep " + strings.TrimSuffix(name, ".png") + ": ID and OOD averages, mean ± std over seeds (numbers in ablations/)"
		}
		row("figures/"+name, note)
	}
	sweeps, _ := filepath.Glob(filepath.Join(out, "ablations", "*.csv"))
	sort.Strings(sweeps)
	for _, f := range sweeps {
		row("ablations/"+filepath.Base(f), SweepReading(f))
	}
	return atomicfile.Write(filepath.Join(out, "README.md"), []byte(b.String()))
}

// SweepReading summarises a sweep CSV: the setting with the best ID average
// and the spread of ID averages across settings.
func SweepReading(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		return "unreadable sweep CSV"
	}
	head := recs[0]
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		return -1
	}
	idc, oodc, seedc := col("id_mean"), col("ood_mean"), col("seeds")
	if idc < 0 || oodc < 0 || seedc < 0 {
		return "sweep CSV without id_mean/ood_mean"
	}
	best, lo, hi := -1, 0.0, 0.0
	var bestID float64
	for i, r := range recs[1:] {
		v, _ := strconv.ParseFloat(r[idc], 64)
		if best < 0 || v > bestID {
			best, bestID = i, v
		}
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	br := recs[best+1]
	setting := make([]string, 0, seedc)
	for i := 0; i < seedc; i++ {
		setting = append(setting, head[i]+"="+br[i])
	}
	seeds := br[seedc] + " seeds"
	if br[seedc] == "1" {
		seeds = "1 seed"
	}
	return fmt.Sprintf("best ID average %s at %s (OOD %s, %s); ID averages span %.2f-%.2f across the sweep",
		br[idc], strings.Join(setting, ", "), br[oodc], seeds, lo, hi)
}
