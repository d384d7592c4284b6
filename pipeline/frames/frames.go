// Package frames loads the pipeline's outputs as gota DataFrames, for the
// notebooks and for anyone who wants to slice the results in Go: the
// reproduced tables joined with the paper's published numbers, the ablation
// sweeps, and per-task statistics of the released data.
package frames

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/routerdc-go/routerdc/pipeline/report"
)

// Table loads results/tables/<name>.csv (means over seeds) and
// <name>_std.csv, in long form with the paper's number beside ours:
// columns method, column, ours, std, paper, diff. paper and diff are NaN
// where the paper has no such cell (our extra rows). name is "table1"
// (in-distribution) or "table2" (out-of-distribution).
func Table(resultsDir, name string) (dataframe.DataFrame, error) {
	var paper report.PaperTable
	switch name {
	case "table1":
		paper = report.PaperTable1
	case "table2":
		paper = report.PaperTable2
	default:
		return dataframe.DataFrame{}, fmt.Errorf("unknown table %q: want table1 or table2", name)
	}
	means, err := readWide(filepath.Join(resultsDir, "tables", name+".csv"))
	if err != nil {
		return dataframe.DataFrame{}, err
	}
	stds, err := readWide(filepath.Join(resultsDir, "tables", name+"_std.csv"))
	if err != nil {
		return dataframe.DataFrame{}, err
	}
	var methods, columns []string
	var ours, std, pap, diff []float64
	for _, row := range means.rows {
		for _, col := range means.columns {
			v := row.values[col]
			s := math.NaN()
			if sr, ok := stds.row(row.method); ok {
				s = sr.values[col]
			}
			p, ok := paper.Value(row.method, col)
			if !ok {
				p = math.NaN()
			}
			methods, columns = append(methods, row.method), append(columns, col)
			ours, std, pap, diff = append(ours, v), append(std, s), append(pap, p), append(diff, v-p)
		}
	}
	df := dataframe.New(
		series.New(methods, series.String, "method"),
		series.New(columns, series.String, "column"),
		series.New(ours, series.Float, "ours"),
		series.New(std, series.Float, "std"),
		series.New(pap, series.Float, "paper"),
		series.New(diff, series.Float, "diff"),
	)
	return df, df.Err
}

// Column keeps one column of a Table frame (e.g. report.AvgColumn): one row
// per method with ours, std, paper and diff.
func Column(table dataframe.DataFrame, column string) dataframe.DataFrame {
	return table.Filter(dataframe.F{Colname: "column", Comparator: series.Eq, Comparando: column}).
		Drop("column")
}

// Wide pivots one measure of a Table frame ("ours", "paper", "diff" or
// "std") back to one row per method and one column per task, in table order.
func Wide(table dataframe.DataFrame, measure string) (dataframe.DataFrame, error) {
	methods := table.Col("method").Records()
	cols := table.Col("column").Records()
	vals := table.Col(measure)
	if vals.Err != nil {
		return dataframe.DataFrame{}, fmt.Errorf("no measure %q: want ours, std, paper or diff", measure)
	}
	var order, colOrder []string
	cell := map[[2]string]float64{}
	seenM, seenC := map[string]bool{}, map[string]bool{}
	for i := range methods {
		if !seenM[methods[i]] {
			seenM[methods[i]] = true
			order = append(order, methods[i])
		}
		if !seenC[cols[i]] {
			seenC[cols[i]] = true
			colOrder = append(colOrder, cols[i])
		}
		cell[[2]string{methods[i], cols[i]}] = vals.Elem(i).Float()
	}
	ss := []series.Series{series.New(order, series.String, "method")}
	for _, c := range colOrder {
		v := make([]float64, len(order))
		for i, m := range order {
			v[i] = cell[[2]string{m, c}]
		}
		ss = append(ss, series.New(v, series.Float, c))
	}
	df := dataframe.New(ss...)
	return df, df.Err
}

// Sweeps lists the ablation sweeps under resultsDir/ablations by name.
func Sweeps(resultsDir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(resultsDir, "ablations", "*.csv"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".csv"))
	}
	sort.Strings(names)
	return names, nil
}

// Ablation loads results/ablations/<name>.csv: the swept settings, seeds,
// id/ood mean and std, and one column per task.
func Ablation(resultsDir, name string) (dataframe.DataFrame, error) {
	path := filepath.Join(resultsDir, "ablations", name+".csv")
	f, err := os.Open(path)
	if err != nil {
		return dataframe.DataFrame{}, err
	}
	defer f.Close()
	// The swept values stay strings: "dolphin-2.9" and "0.1" are both labels.
	df := dataframe.ReadCSV(f, dataframe.DetectTypes(false), dataframe.DefaultType(series.String))
	if df.Err != nil {
		return df, fmt.Errorf("%s: %w", path, df.Err)
	}
	for _, c := range df.Names() {
		if c == "seeds" || c == "id_mean" || c == "id_std" || c == "ood_mean" || c == "ood_std" || isTaskColumn(c) {
			df = df.Mutate(series.New(df.Col(c).Float(), series.Float, c))
		}
	}
	return df, df.Err
}

func isTaskColumn(c string) bool {
	for _, t := range append(append([]string{}, report.PaperTable1.Columns...), report.PaperTable2.Columns...) {
		if t == c && c != report.AvgColumn {
			return true
		}
	}
	return false
}

type wideRow struct {
	method string
	values map[string]float64
}

type wide struct {
	path    string
	columns []string
	rows    []wideRow
}

func (w *wide) row(method string) (wideRow, bool) {
	for _, r := range w.rows {
		if r.method == method {
			return r, true
		}
	}
	return wideRow{}, false
}

// readWide reads a table CSV (method + one column per task + Avg); errors
// name the file, the line and the column.
func readWide(path string) (*wide, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run `just reproduce` to write the tables)", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 || len(recs[0]) < 2 || !strings.EqualFold(recs[0][0], "method") {
		return nil, fmt.Errorf("%s: want a header starting with \"method\" and at least one row", path)
	}
	w := &wide{path: path, columns: recs[0][1:]}
	for i, rec := range recs[1:] {
		r := wideRow{method: rec[0], values: map[string]float64{}}
		for j, c := range w.columns {
			v, err := strconv.ParseFloat(rec[j+1], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: column %q: %q is not a number", path, i+2, c, rec[j+1])
			}
			r.values[c] = v
		}
		w.rows = append(w.rows, r)
	}
	return w, nil
}

// CSV loads any CSV the pipeline writes (a dataset's tables, a sweep, an
// AIQ list) as a DataFrame, with number columns as floats.
func CSV(path string) (dataframe.DataFrame, error) {
	f, err := os.Open(path)
	if err != nil {
		return dataframe.DataFrame{}, err
	}
	defer f.Close()
	df := dataframe.ReadCSV(f)
	if df.Err != nil {
		return df, fmt.Errorf("%s: %w", path, df.Err)
	}
	return df, nil
}
