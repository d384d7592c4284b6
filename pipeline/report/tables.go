package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/stages"
)

// Row is one method's computed results for a table: per column the mean
// over seeds and the standard deviation (0 for deterministic rows).
type Row struct {
	Method string
	Kind   string // KindLLM, KindBaseline, KindRouterDC, or "reference" / "ours"
	// Encoder describes a router row's encoder (encode.Label); "" for rows
	// computed from the data.
	Encoder string
	Mean    map[string]float64
	Std     map[string]float64
	Seeds   int
}

// Table is a computed table laid out like one of the paper's.
type Table struct {
	Name string // "table1" or "table2"; "<declaration>-id" or "-ood" on other datasets
	// Title heads the Markdown of a table the paper does not have.
	Title   string
	Paper   PaperTable
	Columns []string // task columns then AvgColumn
	Rows    []Row
}

// Table1 and Table2 are empty computed tables with the paper's columns.
func Table1() *Table { return &Table{Name: "table1", Paper: PaperTable1, Columns: PaperTable1.Columns} }
func Table2() *Table { return &Table{Name: "table2", Paper: PaperTable2, Columns: PaperTable2.Columns} }

// Tasks are the table's task columns.
func (t *Table) Tasks() []string {
	var out []string
	for _, c := range t.Columns {
		if c != AvgColumn && c != CostColumn {
			out = append(out, c)
		}
	}
	return out
}

// Part is "OOD" for a table of out-of-distribution tasks, else "ID".
func (t *Table) Part() string {
	if t.Name == "table2" || strings.HasSuffix(t.Name, "-ood") {
		return "OOD"
	}
	return "ID"
}

// Add appends a row, computing the Avg column (mean over task columns) of
// each seed's values when perSeed is given, else from the means.
func (t *Table) Add(method, kind, encoder string, perSeed []map[string]float64) {
	r := Row{Method: method, Kind: kind, Encoder: encoder, Mean: map[string]float64{}, Std: map[string]float64{}, Seeds: len(perSeed)}
	tasks := t.Tasks()
	for _, col := range t.Columns {
		var xs []float64
		for _, seed := range perSeed {
			switch col {
			case AvgColumn, CostColumn:
				var s float64
				for _, c := range tasks {
					if col == CostColumn {
						c = stages.CostKey(c)
					}
					s += seed[c]
				}
				xs = append(xs, s/float64(len(tasks)))
			default:
				xs = append(xs, seed[col])
			}
		}
		r.Mean[col], r.Std[col] = evaluate.MeanStd(xs)
	}
	t.Rows = append(t.Rows, r)
}

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// cellText formats a cell: accuracies with 2 decimals, costs (dollars per
// query, 1e-6 to 1e-2) with 4 significant digits.
func cellText(col string, v float64) string {
	if col == CostColumn {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return f2(v)
}

// signed formats a difference with its sign; one that rounds to zero is
// "+0.00", never "-0.00".
func signed(d float64) string {
	if math.Abs(d) < 0.005 {
		return "+0.00"
	}
	return fmt.Sprintf("%+.2f", d)
}

// CSV renders "method,<columns>" with means (std=false) or standard
// deviations (std=true).
func (t *Table) CSV(std bool) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(append([]string{"method"}, t.Columns...))
	for _, r := range t.Rows {
		rec := []string{r.Method}
		for _, c := range t.Columns {
			if std {
				rec = append(rec, cellText(c, r.Std[c]))
			} else {
				rec = append(rec, cellText(c, r.Mean[c]))
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// Markdown renders the table with, per cell, the paper's value, ours (mean ±
// std over seeds) and the difference.
func (t *Table) Markdown(note string) []byte {
	var b strings.Builder
	paper := len(t.Paper.Rows) > 0
	if paper {
		fmt.Fprintf(&b, "# %s, reproduced\n\n%s\n\n", strings.TrimPrefix(t.Paper.Title, "Paper "), note)
		b.WriteString("Each cell: **ours** (± std over seeds) / paper / difference (ours − paper). " +
			"\"—\": the paper has no such row.\n\n")
	} else {
		fmt.Fprintf(&b, "# %s\n\n%s\n\nEach cell: **mean** (± std over seeds).\n\n", t.Title, note)
	}
	b.WriteString("| method | encoder |")
	for _, c := range t.Columns {
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n|---|---|")
	for range t.Columns {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		enc := r.Encoder
		if enc == "" {
			enc = "—"
		}
		fmt.Fprintf(&b, "| %s | %s |", r.Method, enc)
		for _, c := range t.Columns {
			cell := "**" + cellText(c, r.Mean[c]) + "**"
			if r.Seeds > 1 {
				cell += " ± " + cellText(c, r.Std[c])
			}
			if pv, ok := t.Paper.Value(r.Method, c); ok {
				cell += fmt.Sprintf(" / %s / %s", f2(pv), signed(r.Mean[c]-pv))
			} else if paper {
				cell += " / —"
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// Write saves <dir>/<name>.csv, <name>_std.csv and <name>.md.
func (t *Table) Write(dir, note string) error {
	if err := atomicfile.Write(filepath.Join(dir, t.Name+".csv"), t.CSV(false)); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, t.Name+"_std.csv"), t.CSV(true)); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, t.Name+".md"), t.Markdown(note))
}
