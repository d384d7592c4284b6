package report

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// figureNotes say what each figure shows (the reading of the numbers is in
// the tables and sweep CSVs beside them).
var figureNotes = map[string]string{
	"paper-vs-ours.png":       "Tables 1 and 2 as a chart: per task, RouterDC, the baselines the paper also reports and the best single LLM; bars are ours (mean ± std over seeds, offline hashed n-gram encoder), black lines the paper's published values (mDeBERTa encoder)",
	"score-normalization.png": "the training query with the most distinct non-zero LLM scores (ties: the widest spread), raw and softmax-normalised: softmax flattens the scores towards uniform, so a KL loss against it barely tells good from bad LLMs",
	"score-gap.png":           "histogram of the gap between the top-2 LLM scores over the training queries; the title gives the share below 0.1 (the paper: 64%)",
	"routing-heatmap.png":     "share of each task's test queries that RouterDC (seed 1) sends to each LLM",
	"training-curves.png":     "RouterDC (seed 1): loss (moving average), training-set and ID-test routing accuracy at each checkpoint evaluation (the checkpoint is chosen on the training set only)",
	"tsne-embeddings.png":     "t-SNE of trained query embeddings coloured by task, without and with the sample-sample loss",
}

// WriteIndex writes out/README.md: every table, figure and sweep under out
// with a line on what it shows, and for sweeps the best value found. Every
// file under tables/, figures/, ablations/ and validation/ gets a row, so a
// file the report starts writing is listed before anyone writes its note.
func WriteIndex(out string) error {
	text, err := IndexText(out)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(out, "README.md"), []byte(text))
}

// IndexText is what WriteIndex writes.
func IndexText(out string) (string, error) {
	var b strings.Builder
	b.WriteString("# Results\n\nWritten by `routerdc reproduce` and `routerdc run` (`just reproduce`, `just ablate`); do not edit by hand. ")
	b.WriteString("Our encoders are offline (the tables name each router's), not the paper's mDeBERTa; paper values are the published numbers. ")
	b.WriteString(SettingsNote() + "\n\n")
	if s, err := os.ReadFile(filepath.Join(out, "tables", "summary.md")); err == nil {
		b.Write(s)
		b.WriteString("\n")
	}
	b.WriteString("## Files\n\n| file | what it shows |\n|---|---|\n")
	row := func(path, note string) { fmt.Fprintf(&b, "| [%s](%s) | %s |\n", path, path, note) }
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
		row("manifest.json", "the last tables run: seeds, settings, versions, per-run accuracies, training curves, bootstrap (its timings and cache hits: `manifest.run.json`, not committed)")
	}
	for _, dir := range []string{"tables", "figures", "ablations", "validation"} {
		files, err := indexFiles(out, dir)
		if err != nil {
			return "", err
		}
		for _, f := range files {
			row(dir+"/"+f, fileNote(out, dir, f))
		}
	}
	return b.String(), nil
}

// tableNotes say what each file of the paper's tables run holds, in the
// order the index lists them (then any other file, by name).
var tableNotes = []struct{ name, note string }{
	{"table1.md", "Table 1 (in-distribution tasks): every cell ours ± std / paper / difference"},
	{"table2.md", "Table 2 (out-of-distribution tasks), likewise"},
	{"table1.csv", "Table 1 means over seeds"},
	{"table1_std.csv", "Table 1 standard deviations over seeds"},
	{"table2.csv", "Table 2 means over seeds"},
	{"table2_std.csv", "Table 2 standard deviations over seeds"},
	{"summary.md", "the headline averages beside the paper's, our groups' alignment, the bootstrap (shown above)"},
}

// indexFiles lists the plain files of out/dir: the known tables first in
// tableNotes' order, then the rest sorted by name. A missing dir is empty.
func indexFiles(out, dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(out, dir))
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	rank := func(name string) int {
		for i, t := range tableNotes {
			if dir == "tables" && t.name == name {
				return i
			}
		}
		return len(tableNotes)
	}
	var names []string
	for _, e := range entries {
		// Hidden names are atomicfile's temp files and editors' leftovers;
		// a sweep's or validation's CSV is listed, not the manifest beside it.
		// A .run.json holds one run's timings and is not committed.
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".run.json") ||
			(dir == "ablations" || dir == "validation") && !strings.HasSuffix(e.Name(), ".csv") {
			continue
		}
		names = append(names, e.Name())
	}
	sort.SliceStable(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names, nil
}

// fileNote is the index's line for out/dir/name.
func fileNote(out, dir, name string) string {
	switch dir {
	case "tables":
		for _, t := range tableNotes {
			if t.name == name {
				return t.note
			}
		}
		// A tables declaration on another dataset writes <decl>-id.csv,
		// <decl>-ood.md, <decl>-summary.md, <decl>-manifest.json, ...
		for _, s := range []struct{ suffix, note string }{
			{"-id.md", "in-distribution table: every cell mean ± std over seeds"},
			{"-ood.md", "out-of-distribution table: every cell mean ± std over seeds"},
			{"-id.csv", "in-distribution table, means over seeds"},
			{"-ood.csv", "out-of-distribution table, means over seeds"},
			{"-id_std.csv", "in-distribution table, standard deviations over seeds"},
			{"-ood_std.csv", "out-of-distribution table, standard deviations over seeds"},
			{"-summary.md", "the headline averages of that tables declaration"},
			{"-manifest.json", "that tables run: seeds, settings, versions, per-run accuracies (timings: the `.run.json` beside it, not committed)"},
		} {
			if strings.HasSuffix(name, s.suffix) {
				return "tables declaration " + strings.TrimSuffix(name, s.suffix) + ": " + s.note
			}
		}
		return "written by a tables declaration"
	case "figures":
		if note, ok := figureNotes[name]; ok {
			return note
		}
		if strings.HasPrefix(name, "ablation-") {
			return "sweep " + strings.TrimSuffix(name, ".png") + ": ID and OOD averages, mean ± std over seeds (numbers in ablations/)"
		}
		return "a figure of the report or of a declaration"
	case "ablations":
		if strings.HasSuffix(name, "-aiq.csv") {
			return "AIQ of each router of sweep " + strings.TrimSuffix(name, "-aiq.csv") + " (area under its cost-accuracy hull over the LLMs' cost range)"
		}
		return SweepReading(filepath.Join(out, dir, name))
	case "validation":
		if name == "validation-ours.csv" {
			return "how the paper declaration's ours rows were chosen: each configuration's accuracy on validation splits of the training files, ranked"
		}
		return "a validate declaration's configurations, ranked by validation accuracy"
	}
	return ""
}

// SweepCell is one setting of a sweep CSV: the swept values and the ID/OOD
// averages over its seeds.
type SweepCell struct {
	Setting         string // "k_pos=2, k_neg=1"
	Seeds           int
	ID, IDStd       float64
	OOD, OODStd     float64
	IDText, OODText string // the CSV's own text of ID and OOD, as written
}

// SweepCells reads a sweep CSV (written by the sweep report: the swept
// parameters, then seeds, id_mean, id_std, ood_mean, ood_std, per-task
// columns).
func SweepCells(path string) ([]SweepCell, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("%s: no sweep rows", path)
	}
	head := recs[0]
	col := func(name string) int { return slices.Index(head, name) }
	seedc := col("seeds")
	cols := map[string]int{"id_mean": col("id_mean"), "id_std": col("id_std"), "ood_mean": col("ood_mean"), "ood_std": col("ood_std")}
	for name, c := range cols {
		if c < 0 || seedc < 0 {
			return nil, fmt.Errorf("%s: no %s or seeds column", path, name)
		}
	}
	var cells []SweepCell
	for i, r := range recs[1:] {
		line := i + 2
		c := SweepCell{IDText: r[cols["id_mean"]], OODText: r[cols["ood_mean"]]}
		var setting []string
		for j := 0; j < seedc; j++ {
			setting = append(setting, head[j]+"="+r[j])
		}
		c.Setting = strings.Join(setting, ", ")
		if c.Seeds, err = strconv.Atoi(r[seedc]); err != nil {
			return nil, fmt.Errorf("%s: line %d: field seeds: %q is not a count", path, line, r[seedc])
		}
		for name, dst := range map[string]*float64{"id_mean": &c.ID, "id_std": &c.IDStd, "ood_mean": &c.OOD, "ood_std": &c.OODStd} {
			text := r[cols[name]]
			if text == "" && strings.HasSuffix(name, "_std") {
				// One seed has no spread: the cell is left empty.
				*dst = math.NaN()
				continue
			}
			if *dst, err = strconv.ParseFloat(text, 64); err != nil {
				return nil, fmt.Errorf("%s: line %d: field %s: %q is not a number", path, line, name, r[cols[name]])
			}
		}
		cells = append(cells, c)
	}
	return cells, nil
}

// SweepReading summarises a sweep CSV: the setting with the best ID average
// (the first one on a tie) and the spread of ID averages across settings.
func SweepReading(path string) string {
	cells, err := SweepCells(path)
	if err != nil {
		return "unreadable sweep CSV: " + err.Error()
	}
	best, lo, hi := cells[0], cells[0].ID, cells[0].ID
	for _, c := range cells[1:] {
		if c.ID > best.ID {
			best = c
		}
		lo, hi = min(lo, c.ID), max(hi, c.ID)
	}
	seeds := fmt.Sprintf("%d seeds", best.Seeds)
	if best.Seeds == 1 {
		seeds = "1 seed"
	}
	return fmt.Sprintf("best ID average %s at %s (OOD %s, %s); the %d settings' ID averages span %.2f-%.2f",
		best.IDText, best.Setting, best.OODText, seeds, len(cells), lo, hi)
}
