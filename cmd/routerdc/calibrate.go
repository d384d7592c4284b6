package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/gateway"
)

const calibrateAbout = `Finds the W of "router:W" that meets a target on a set of queries, and prints
it with the share of queries each mapped LLM then gets. --target-cost: the
smallest W (the most quality) whose average cost per query is at most DOLLARS,
a query costing its LLM's cost_per_1k_tokens times --tokens/1000.
--target-share LLM=FRACTION: the W that sends that fraction of the queries to
LLM, as near as the queries allow. Queries: one per line, or a RouterDC-format
JSON file (its questions). W is exact for these queries (the choices change
only at finitely many Ws, found without trying values).`

func cmdCalibrate(args []string) error {
	fs := newFlags("calibrate --router DIR --upstreams FILE --queries FILE (--target-cost DOLLARS | --target-share LLM=FRACTION) [--tokens N]",
		calibrateAbout)
	rdir := fs.String("router", "", routerDirUsage)
	upFile := fs.String("upstreams", "", "the upstreams YAML `FILE` (the mapped LLMs and their costs)")
	qFile := fs.String("queries", "", "queries `FILE`: one per line, or a RouterDC-format .json file")
	targetCost := fs.String("target-cost", "", "average cost per query to stay within, in `DOLLARS`")
	targetShare := fs.String("target-share", "", "the share of queries one mapped LLM should get, `LLM=FRACTION` (FRACTION in [0, 1])")
	tokens := fs.Float64("tokens", 1000, "tokens per query (prompt and answer) for --target-cost, `N`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *upFile == "" || *qFile == "" {
		return errors.New("--upstreams FILE and --queries FILE are required")
	}
	if (*targetCost == "") == (*targetShare == "") {
		return errors.New("give one of --target-cost DOLLARS and --target-share LLM=FRACTION")
	}
	if !(*tokens > 0) || math.IsInf(*tokens, 0) {
		return fmt.Errorf("--tokens %v: want a number of tokens > 0", *tokens)
	}
	r, err := loadRouter(*rdir)
	if err != nil {
		return err
	}
	cfg, err := loadUpstreams(*upFile, r)
	if err != nil {
		return err
	}
	names := cfg.Names()
	var cost float64
	shareLLM, share := -1, 0.0
	if *targetCost != "" {
		if cost, err = strconv.ParseFloat(*targetCost, 64); err != nil || !(cost >= 0) || math.IsInf(cost, 0) {
			return fmt.Errorf("--target-cost %q: want dollars >= 0", *targetCost)
		}
	} else {
		name, frac, ok := strings.Cut(*targetShare, "=")
		if shareLLM = slices.Index(names, name); !ok || shareLLM < 0 {
			return fmt.Errorf("--target-share %q: want LLM=FRACTION with LLM one of the mapped %s", *targetShare, strings.Join(names, ", "))
		}
		if share, err = strconv.ParseFloat(frac, 64); err != nil || !(share >= 0 && share <= 1) {
			return fmt.Errorf("--target-share %q: FRACTION must be a number in [0, 1]", *targetShare)
		}
	}
	queries, err := readQueries(*qFile)
	if err != nil {
		return err
	}
	if len(queries) == 0 {
		return fmt.Errorf("%s: no queries", *qFile)
	}
	routerIx := make([]int, len(names))
	for i, n := range names {
		routerIx[i] = slices.Index(r.Meta.LLMs, n)
	}
	var probs [][]float64
	for lo := 0; lo < len(queries); lo += routeBatch {
		scores, err := r.Scores(queries[lo:min(lo+routeBatch, len(queries))])
		if err != nil {
			return err
		}
		for _, s := range scores {
			p := r.Probabilities(s)
			pm := make([]float64, len(names))
			for i, ix := range routerIx {
				pm[i] = p[ix]
			}
			probs = append(probs, pm)
		}
	}
	dollars := make([]float64, len(names))
	for i, u := range cfg.LLMs {
		dollars[i] = u.CostPer1kTokens * *tokens / 1000
	}
	var c gateway.Calibration
	if shareLLM < 0 {
		c, err = gateway.CalibrateCost(probs, cfg.Costs(), dollars, cost)
	} else {
		c, err = gateway.CalibrateShare(probs, cfg.Costs(), dollars, shareLLM, share)
	}
	if err != nil {
		return err
	}
	w := strconv.FormatFloat(c.W, 'g', -1, 64)
	fmt.Printf("W = %s: use model \"router:%s\" (%d queries from %s)\n", w, w, len(queries), *qFile)
	fmt.Printf("average cost per query: $%.6g (at %g tokens per query)", c.AvgCost, *tokens)
	if shareLLM < 0 {
		fmt.Printf("; target $%g\n", cost)
	} else {
		fmt.Printf("\nshare of %s: %.1f%%; target %.1f%% (the nearest these queries allow)\n", names[shareLLM], 100*c.Shares[shareLLM], 100*share)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LLM\tSHARE\tCOST PER 1K TOKENS")
	for i, n := range names {
		fmt.Fprintf(tw, "%s\t%.1f%%\t$%g\n", n, 100*c.Shares[i], cfg.LLMs[i].CostPer1kTokens)
	}
	return tw.Flush()
}

// readQueries reads a RouterDC-format .json file's questions, or else one
// query per non-blank line.
func readQueries(file string) ([]string, error) {
	if strings.HasSuffix(strings.ToLower(file), ".json") {
		ds, err := data.Load(file)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(ds.Queries))
		for i, q := range ds.Queries {
			out[i] = q.Question
		}
		return out, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var out []string
	for line := 1; ; line++ {
		text, err := readLine(br, maxRouteLine)
		if errors.Is(err, errLineTooLong) {
			return nil, fmt.Errorf("%s: line %d is over %d MiB (one query per line)", file, line, maxRouteLine>>20)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: line %d: %w", file, line, err)
		}
		if strings.TrimSpace(text) != "" {
			out = append(out, text)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}
