// Command routerdc downloads the RouterDC data, trains and evaluates
// routers, routes queries and reproduces the paper's tables.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/experiments"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/routers"
	"github.com/routerdc-go/routerdc/pipeline/score/stage"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

const usage = `routerdc: query-based LLM routing (RouterDC, NeurIPS 2024) in Go.

Commands:
  data       [--data DIR] [--check]                 download the released datasets and verify SHA256
  train      [--data DIR] --out DIR [--seed N] [--set key=value ...]
                                                    train a router (RouterDC; --set router=KIND for another:
                                                    "routerdc settings" lists the kinds and every setting)
  eval       --router DIR --data FILE --metric probability|multi_attempt
                                                    print {"accuracy": %, "n": queries} for any RouterDC-format file
  route      --router DIR [QUERY ...]               route queries (else one per stdin line; a line over
                                                    16 MiB is an error naming its line number)
  validate   [--data DIR] [--seeds 1,2,3] CONFIG ...   compare settings on validation splits of the TRAINING
                                                    files (never the test sets); CONFIG is "key=value;key=value";
                                                    prints only: declare "kind: validate" to record the runs
  reproduce  [--data DIR] [--out results] [--seeds 1,2,3,4,5] [--set key=value ...] [CACHE FLAGS]
                                                    Tables 1 and 2 of the paper, side by side with the paper
                                                    (runs the built-in declaration "paper")
  run        [--data DIR] [--out results] [CACHE FLAGS] FILE|NAME ...
                                                    run experiment declarations (YAML; built-in names:
                                                    paper, ablation-lambda, ablation-k, ..., tsne-embeddings;
                                                    "ablations" = all but paper and validation-ours)

Cache flags: --cache DIR (default .cache/routerdc), --no-cache, --force, --dry-run, --only STAGE.
Stage outputs are cached by a hash of their inputs, settings and code version: a second run is
near-instant and a changed setting reruns only what depends on it.
  settings                                          list the training settings and their defaults
  score      import|api|questions|merge|run|sandbox  make score files and datasets for your own LLMs
                                                    (lm-eval/bigcode logs, or a served model); see
                                                    "routerdc score help"

The data directory is --data, else $ROUTERDC_DATA, else ./data.
The backend is the pure-Go one unless GOMLX_BACKEND says otherwise (e.g. xla:cpu, xla:cuda; needs -tags xla).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "data":
		err = cmdData(os.Args[2:])
	case "train":
		err = cmdTrain(os.Args[2:])
	case "eval":
		err = cmdEval(os.Args[2:])
	case "route":
		err = cmdRoute(os.Args[2:])
	case "reproduce":
		err = cmdReproduce(os.Args[2:])
	case "validate":
		err = cmdValidate(os.Args[2:])
	case "run":
		err = cmdRun(os.Args[2:])
	case "settings":
		err = cmdSettings()
	case "score":
		err = cmdScore(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "routerdc: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "routerdc %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// multiFlag collects repeated --set flags.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// progress is where progress bars go: stderr, unless it is not wanted.
func progress() io.Writer {
	if os.Getenv("ROUTERDC_QUIET") != "" {
		return nil
	}
	return os.Stderr
}

func cmdData(args []string) error {
	fs := newFlags("data")
	dirFlag := fs.String("data", "", "data directory (default $ROUTERDC_DATA or ./data)")
	check := fs.Bool("check", false, "only verify the files, download nothing")
	base := fs.String("base-url", "", "download from this URL instead of the pinned upstream commit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := data.Dir(*dirFlag)
	if !*check {
		if err := data.Download(context.Background(), dir, *base, progress()); err != nil {
			return err
		}
	}
	if err := data.CheckDir(dir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "data: all %d files present with the expected SHA256 in %s\n", len(data.Files()), dir)
	return nil
}

// cmdSettings lists every declared setting: key, default, whose choice the
// default is (the paper's or ours), the kinds that read it, what it does.
func cmdSettings() error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SETTING\tDEFAULT\tFROM\tKINDS\tDESCRIPTION")
	for _, s := range routers.Settings() {
		kinds := strings.Join(routers.UsedBy(s.Key), ",")
		if kinds == "" {
			kinds = "common"
		}
		doc := s.Doc
		if s.Key == router.ParamRouter {
			doc += ": " + strings.Join(routers.Names(), ", ")
		}
		if s.Want != "" {
			doc += " (" + s.Want + ")"
		}
		fmt.Fprintf(w, "%s\t%v\t%s\t%s\t%s\n", s.Key, s.Default, s.Origin, kinds, doc)
	}
	return w.Flush()
}

func cmdTrain(args []string) error {
	fs := newFlags("train")
	dirFlag := fs.String("data", "", "data directory (default $ROUTERDC_DATA or ./data)")
	out := fs.String("out", "", "router directory to write (required)")
	seed := fs.Int64("seed", 1, "random seed")
	cacheDir := fs.String("cache", cache.DefaultDir, "cache directory of the grouping stage (group=ours)")
	noCache := fs.Bool("no-cache", false, "neither read nor write the cache")
	var sets multiFlag
	fs.Var(&sets, "set", "override a setting, key=value (repeatable; see `routerdc settings`)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out DIR is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	// Before training, so a bad --out costs nothing; Save checks again.
	if err := routerdir.CheckOutDir(filepath.Clean(*out)); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	store := router.NewStore(*seed)
	if err := router.ApplySettings(store, sets); err != nil {
		return err
	}
	col, err := data.Builtin(data.Dir(*dirFlag))
	if err != nil {
		return err
	}
	if *noCache {
		*cacheDir = ""
	}
	groups, _, err := trainGroups(col, *seed, sets, *cacheDir, os.Stderr, progress())
	if err != nil {
		return err
	}
	r, err := train.RunWithOptions(col, store, train.Options{Groups: groups}, progress())
	if err != nil {
		return err
	}
	if err := r.Save(*out); err != nil {
		return err
	}
	rep := r.Meta.Training.(*train.Report)
	msg := fmt.Sprintf("trained %s (seed %d) on %d queries in %.1fs", r.Meta.Kind, *seed, rep.NumTrain, rep.Timing.TotalS)
	if rep.Train != nil {
		msg += fmt.Sprintf("; best checkpoint at step %d (selection accuracy %.2f)", rep.Train.BestStep, rep.Train.BestAcc)
	}
	fmt.Fprintf(os.Stderr, "%s\nrouter written to %s\n", msg, *out)
	return nil
}

func loadRouter(dir string) (*routerdir.Router, error) {
	if dir == "" {
		return nil, errors.New("--router DIR is required")
	}
	return routerdir.Load(dir)
}

func cmdEval(args []string) error {
	fs := newFlags("eval")
	rdir := fs.String("router", "", "router directory (from `routerdc train`)")
	file := fs.String("data", "", "a RouterDC-format JSON file")
	metric := fs.String("metric", "", "probability | multi_attempt")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := data.Metric(*metric)
	if m != data.Probability && m != data.MultiAttempt {
		return fmt.Errorf("--metric %q: want probability or multi_attempt", *metric)
	}
	if *file == "" {
		return errors.New("--data FILE is required")
	}
	r, err := loadRouter(*rdir)
	if err != nil {
		return err
	}
	ds, err := data.Load(*file)
	if err != nil {
		return err
	}
	if err := sameLLMs(ds, r.Meta.LLMs); err != nil {
		return err
	}
	res, err := evaluate.Dataset(r, ds, m)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"accuracy": round(res.Accuracy, 4), "n": res.N})
	fmt.Println(string(b))
	return nil
}

func sameLLMs(ds *data.Dataset, llms []string) error {
	if strings.Join(ds.LLMs, "\n") == strings.Join(llms, "\n") {
		return nil
	}
	return fmt.Errorf("%s: LLMs %v are not the router's %v (same names, same order)", ds.Path, ds.LLMs, llms)
}

func round(v float64, digits int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return f
}

// maxRouteLine bounds one stdin query of `routerdc route`, so that a file
// piped by mistake (or one without newlines) cannot take all the memory.
const maxRouteLine = 16 << 20

// routeBatch is how many stdin queries are routed (and answered) at a time.
const routeBatch = 256

func cmdRoute(args []string) error {
	fs := newFlags("route")
	rdir := fs.String("router", "", "router directory (from `routerdc train`)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: routerdc route --router DIR [QUERY ...]

Routes each QUERY, or else each non-blank line of stdin (one query per line,
trailing CR/LF removed), and prints one JSON line per query:
{"query": ..., "llm": ..., "probabilities": {llm: p, ...}}.
Stdin queries are answered in batches of %d as they are read. A line over
%d MiB is an error that gives its line number; the answers to the lines
before it are printed first.

`, routeBatch, maxRouteLine>>20)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := loadRouter(*rdir)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	emit := func(queries []string) error {
		scores, err := r.Scores(queries)
		if err != nil {
			return err
		}
		for i, q := range queries {
			probs := r.Probabilities(scores[i])
			best := router.Argmax([][]float64{scores[i]})[0]
			pm := make([]kv, len(probs))
			for t, p := range probs {
				pm[t] = kv{r.Meta.LLMs[t], round(p, 6)}
			}
			b, _ := json.Marshal(struct {
				Query string    `json:"query"`
				LLM   string    `json:"llm"`
				Probs orderedKV `json:"probabilities"`
			}{q, r.Meta.LLMs[best], pm})
			w.Write(append(b, '\n'))
		}
		return w.Flush()
	}
	if fs.NArg() > 0 {
		return emit(fs.Args())
	}
	return routeLines(os.Stdin, emit)
}

// routeLines passes the non-blank lines of in to emit in batches of
// routeBatch. Whatever stops it (a line over maxRouteLine, a read error),
// the lines read before are emitted first: their answers are never lost.
func routeLines(in io.Reader, emit func([]string) error) error {
	br := bufio.NewReader(in)
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := emit(batch)
		batch = batch[:0]
		return err
	}
	for line := 1; ; line++ {
		text, err := readLine(br, maxRouteLine)
		if errors.Is(err, errLineTooLong) {
			if err := flush(); err != nil {
				return err
			}
			return fmt.Errorf("stdin line %d is over %d MiB (one query per line, each at most %d MiB); "+
				"the queries before it were routed", line, maxRouteLine>>20, maxRouteLine>>20)
		}
		if err != nil && err != io.EOF { // text may be cut short: not routed
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("reading stdin line %d: %w", line, err)
		}
		if strings.TrimSpace(text) != "" {
			batch = append(batch, text)
		}
		if err == io.EOF {
			return flush()
		}
		if len(batch) == routeBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line of at most max bytes, without its "\n" or "\r\n"
// (as bufio.ScanLines). The last line may lack a newline: it comes with
// io.EOF. A longer line gives errLineTooLong once max+1 bytes are read, so
// memory stays bounded.
func readLine(br *bufio.Reader, max int) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		content := len(buf)
		if err == nil {
			content-- // the newline
		}
		if content > max {
			return "", errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line := strings.TrimSuffix(string(buf), "\n")
		line = strings.TrimSuffix(line, "\r")
		return line, err
	}
}

type kv struct {
	K string
	V float64
}

// orderedKV marshals as a JSON object that keeps the LLM order.
type orderedKV []kv

func (o orderedKV) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.K)
		v, _ := json.Marshal(e.V)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func cmdReproduce(args []string) error {
	fs := newFlags("reproduce")
	seedsFlag := fs.String("seeds", "", "comma-separated seeds (default: the declaration's, 1..5); router rows are their mean")
	c := addRunFlags(fs, "results")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := experiments.Load("paper")
	if err != nil {
		return err
	}
	// Set but empty is an error, not the declaration's seeds.
	if flagSet(fs, "seeds") {
		if d.Seeds, err = parseSeeds(*seedsFlag); err != nil {
			return err
		}
	}
	return runDecl(d, c, nil, nil)
}

func cmdRun(args []string) error {
	fs := newFlags("run")
	c := addRunFlags(fs, "results")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("give declaration files (or built-in names: %s)", strings.Join(experiments.Builtin(), ", "))
	}
	var names []string
	for _, f := range fs.Args() {
		if f == "ablations" { // every built-in declaration but the paper's tables and the selection run behind them
			for _, b := range experiments.Builtin() {
				if b != "paper" && b != "validation-ours" {
					names = append(names, b)
				}
			}
			continue
		}
		names = append(names, f)
	}
	// Each file is a scoring, a dataset or an experiment declaration; they
	// run in the order given, so scores are written before a dataset reads
	// them and a dataset is read before the tables trained on it.
	type item struct {
		file    string
		scores  *stage.Decl
		dataset *data.Decl
		exp     *experiments.Decl
	}
	var items []item
	var datasets []*data.Decl
	haveExp := false
	for _, f := range names {
		b, err := os.ReadFile(f)
		switch {
		case err == nil && stage.IsDecl(b):
			d, err := stage.Parse(f, b)
			if err != nil {
				return err
			}
			items = append(items, item{file: f, scores: d})
		case err == nil && data.IsDecl(b):
			d, err := data.ParseDecl(f, b)
			if err != nil {
				return err
			}
			items = append(items, item{file: f, dataset: d})
			datasets = append(datasets, d)
		default:
			d, err := experiments.Load(f)
			if err != nil {
				return err
			}
			items = append(items, item{file: f, exp: d})
			haveExp = true
		}
	}
	if !haveExp {
		var misused []string
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name == "set" || fl.Name == "only" || fl.Name == "data" || fl.Name == "out" {
				misused = append(misused, "--"+fl.Name)
			}
		})
		if len(misused) > 0 {
			return fmt.Errorf("%s apply to experiment declarations (tables, sweep, embeddings, validate), and none is given: "+
				"scoring declarations write to their \"out\", dataset declarations only read", strings.Join(misused, ", "))
		}
	}
	loaded := map[string]*data.Collection{}
	for _, it := range items {
		switch {
		case it.scores != nil:
			if err := runScoreDecl(it.scores, it.file, *c.cacheDir, *c.noCache, *c.force, *c.dryRun); err != nil {
				return err
			}
		case it.dataset != nil:
			if err := readDataset(it.dataset, *c.dryRun); err != nil {
				return err
			}
		default:
			err := runDecl(it.exp, c, datasets, loaded)
			if *c.dryRun && errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(os.Stderr, "%s: its dataset cannot be read yet (%v); it is planned once the scoring before it has run\n",
					it.file, err)
				continue
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// readDataset reads a dataset declaration's files and says what they hold;
// on a dry run, files that scoring has still to write are no error.
func readDataset(d *data.Decl, dryRun bool) error {
	col, err := d.Load(os.Stderr)
	if dryRun && errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "%s (dataset): not readable yet (%v); scoring writes it\n", d.Name, err)
		return nil
	}
	if err != nil {
		return err
	}
	var n, dropped int
	for _, t := range col.Tasks {
		for _, ds := range t.Train {
			n += len(ds.Queries)
		}
		n += len(t.Test.Queries)
	}
	for _, k := range col.Dropped {
		dropped += k
	}
	fmt.Fprintf(os.Stderr, "%s (dataset, %s): %d tasks, %d LLMs, %d queries", d.Name, d.File, len(col.Tasks), len(col.LLMs), n)
	if dropped > 0 {
		fmt.Fprintf(os.Stderr, ", %d dropped for missing scores", dropped)
	}
	if col.HasCosts {
		fmt.Fprint(os.Stderr, ", with costs")
	}
	fmt.Fprintln(os.Stderr)
	return nil
}

// runFlags are the flags of reproduce and run.
type runFlags struct {
	dataDir, out   *string
	sets           multiFlag
	cacheDir, only *string
	noCache, force *bool
	dryRun         *bool
}

func addRunFlags(fs *flag.FlagSet, out string) *runFlags {
	c := &runFlags{
		dataDir:  fs.String("data", "", "data directory (default $ROUTERDC_DATA or ./data)"),
		out:      fs.String("out", out, "output directory"),
		cacheDir: fs.String("cache", cache.DefaultDir, "cache directory of stage outputs"),
		noCache:  fs.Bool("no-cache", false, "neither read nor write the cache"),
		force:    fs.Bool("force", false, "recompute every stage even when cached"),
		dryRun:   fs.Bool("dry-run", false, "print what would run and why, run nothing"),
		only:     fs.String("only", "", "run only this stage ("+strings.Join(engine.Pipeline.Names(), ", ")+"); earlier ones must be cached"),
	}
	fs.Var(&c.sets, "set", "override a setting for every run, key=value (repeatable)")
	return c
}

func runDecl(d *experiments.Decl, c *runFlags, datasets []*data.Decl, loaded map[string]*data.Collection) error {
	start := time.Now()
	o := experiments.Options{DataDir: data.Dir(*c.dataDir), Datasets: datasets, Loaded: loaded,
		Out: *c.out, Settings: c.sets, Progress: progress(),
		Force: *c.force, DryRun: *c.dryRun, Only: *c.only}
	if *c.noCache {
		if o.Only != "" {
			return errors.New("--only needs the cache (drop --no-cache)")
		}
	} else {
		store, err := cache.Open(*c.cacheDir, cache.DefaultWait, os.Stderr)
		if err != nil {
			return err
		}
		defer store.Close()
		o.Cache = store
	}
	fmt.Fprintf(os.Stderr, "%s (%s)\n", d.Name, d.File)
	res, err := experiments.Run(d, o)
	if err != nil {
		return err
	}
	if man := res.Manifest; man != nil && len(res.Written) > 0 {
		for _, name := range []string{d.Baseline, d.Best} {
			if runs := man.Runs[name]; len(runs) > 0 {
				var id, ood float64
				for _, r := range runs {
					id += r.IDAvg / float64(len(runs))
					ood += r.OODAvg / float64(len(runs))
				}
				fmt.Fprintf(os.Stderr, "%-28s ID avg %.2f  OOD avg %.2f  (mean of %d seeds)\n", name, id, ood, len(runs))
			}
		}
	}
	fmt.Fprintf(os.Stderr, "%s finished in %s", d.Name, time.Since(start).Round(time.Millisecond))
	if line := engine.StatsLine(engine.Pipeline, res.Stages); line != "" {
		fmt.Fprintf(os.Stderr, " (%s)", line)
	}
	fmt.Fprintln(os.Stderr)
	if len(res.Written) > 0 {
		fmt.Fprintf(os.Stderr, "outputs: %s\n", strings.Join(res.Written, ", "))
	}
	return nil
}

// parseSeeds reads --seeds. A repeated seed is an error: it would count one
// run twice in a mean.
func parseSeeds(s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("--seeds is empty: give comma-separated integer seeds, e.g. 1,2,3")
	}
	var seeds []int64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds %q: %q is not an integer seed", s, strings.TrimSpace(f))
		}
		if slices.Contains(seeds, v) {
			return nil, fmt.Errorf("--seeds %q: repeats seed %d", s, v)
		}
		seeds = append(seeds, v)
	}
	return seeds, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func cmdValidate(args []string) error {
	fs := newFlags("validate")
	dirFlag := fs.String("data", "", "data directory (default $ROUTERDC_DATA or ./data)")
	seedsFlag := fs.String("seeds", "1,2,3", "comma-separated seeds; each draws its own validation split")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New(`give at least one CONFIG, e.g. "router=task;target=credit"`)
	}
	seeds, err := parseSeeds(*seedsFlag)
	if err != nil {
		return err
	}
	col, err := data.Builtin(data.Dir(*dirFlag))
	if err != nil {
		return err
	}
	for _, cfg := range fs.Args() {
		res, err := train.Validation(col, []string{cfg}, seeds, progress())
		if err != nil {
			return fmt.Errorf("config %q: %w", cfg, err)
		}
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
		fmt.Fprintf(os.Stderr, "%-50s VAL %.2f ± %.2f over seeds %v (%.0fs)\n", cfg, res.Mean, res.Std, seeds, res.Seconds)
	}
	return nil
}
