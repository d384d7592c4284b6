package experiments

// "validate" declarations: the selection runs. Settings are chosen on
// validation splits carved from the training files (train.Validation), never
// on the test sets, and the runs that chose them are declared and recorded
// like the tables and sweeps they feed.

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/progress"
	"github.com/routerdc-go/routerdc/pipeline/report"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/routerdir"
	"github.com/routerdc-go/routerdc/pipeline/train"
	"github.com/routerdc-go/routerdc/pipeline/yamlstrict"
)

// DefaultValidateSeeds are a validate declaration's seeds when it names
// none: each seed draws its own validation split.
var DefaultValidateSeeds = []int64{1, 2, 3}

// ConfigDecl is one configuration of a validate declaration.
type ConfigDecl struct {
	Name     string `yaml:"name" json:"name"`
	Settings string `yaml:"settings" json:"settings"`
	line     int
}

func (c *ConfigDecl) UnmarshalYAML(n *yaml.Node) error {
	type plain ConfigDecl
	if err := yamlstrict.Decode(n, "configs[]", (*plain)(c)); err != nil {
		return err
	}
	c.line = n.Line
	return nil
}

// defaultValidateSeeds fills in the seeds of a validate declaration without
// a "seeds" key; an explicit empty list stays an error.
func (d *Decl) defaultValidateSeeds() {
	if d.Kind == "validate" && d.lines["seeds"] == 0 {
		d.Seeds = slices.Clone(DefaultValidateSeeds)
	}
}

func (d *Decl) validateConfigs() error {
	if len(d.Configs) == 0 {
		return fmt.Errorf("line %d: kind \"validate\" needs \"configs\" (a list of {name, settings})", d.lines["kind"])
	}
	var names []string
	for i, c := range d.Configs {
		where := fmt.Sprintf("configs[%d]", i)
		if c.Name == "" {
			return fmt.Errorf("line %d: %s: key \"name\" is missing", c.line, where)
		}
		// The name is a CSV row's key and may become a file name later:
		// keep it plain, like the declaration's own name.
		if c.Name == "." || c.Name == ".." || strings.ContainsAny(c.Name, `/\`) || filepath.IsAbs(c.Name) || filepath.VolumeName(c.Name) != "" {
			return fmt.Errorf("line %d: %s: name %q is not a plain name (no \"/\", \"\\\", \".\" or \"..\")", c.line, where, c.Name)
		}
		if slices.Contains(names, c.Name) {
			return fmt.Errorf("line %d: %s: name %q repeats", c.line, where, c.Name)
		}
		names = append(names, c.Name)
		settings := []string{d.Settings, c.Settings}
		if err := checkSettings(c.line, where+".settings", settings...); err != nil {
			return err
		}
		// train.Validation refuses this at run time; say it before any training.
		store := router.NewStore(1)
		store.SetParam(router.ParamValFraction, train.DefaultValFraction)
		if err := router.ApplySettings(store, settings); err == nil && router.ReadParams(store).ValFraction <= 0 {
			return fmt.Errorf("line %d: %s.settings: val_fraction=0 leaves no validation rows", c.line, where)
		}
	}
	return nil
}

// ValidationRow is one configuration's outcome; Rank 1 is the highest mean
// validation accuracy.
type ValidationRow struct {
	Name string `json:"name"`
	Rank int    `json:"rank"`
	*train.ValResult
	// Seconds hides ValResult's (a shallower field wins in encoding/json):
	// the time is this run's, for the run log, not the manifest.
	Seconds *struct{} `json:"seconds,omitempty"`
}

// ValidationManifest records how a validate CSV was made: the declaration,
// the code versions, and every configuration's per-seed values.
type ValidationManifest struct {
	Declaration *Decl              `json:"declaration"`
	Settings    []string           `json:"command_line_settings"`
	Versions    routerdir.Versions `json:"versions"`
	Dataset     string             `json:"dataset"`
	Tasks       []string           `json:"tasks"` // the CSV's task columns, in the dataset's order
	Configs     []ValidationRow    `json:"configs"`
}

// runValidate trains every configuration on every seed with its validation
// split and writes Out/validation/<name>.csv and .manifest.json. The runs
// are not cached: train.Validation trains outside the stage engine.
func runValidate(d *Decl, o Options) (*Result, error) {
	if o.Only != "" {
		return nil, fmt.Errorf("%s: kind \"validate\" trains outside the cached stages; --only %s does not apply", d.File, o.Only)
	}
	settings := func(c ConfigDecl) []string {
		var s []string
		for _, part := range append([]string{d.Settings, c.Settings}, o.Settings...) {
			if part != "" {
				s = append(s, part)
			}
		}
		return s
	}
	if o.DryRun {
		out := o.DryRunOut
		if out == nil { // as the engine's plan
			out = os.Stdout
		}
		for _, c := range d.Configs {
			fmt.Fprintf(out, "validate  %-45s seeds %v with a validation split; not cached: runs\n", d.Name+": "+c.Name, d.Seeds)
		}
		// One unit per configuration (all its seeds), as the progress shows it.
		return &Result{Stages: map[string]*engine.Stats{StageValidate: {Ran: len(d.Configs)}}}, nil
	}
	col, err := o.collection(d)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	man := &ValidationManifest{Declaration: d, Settings: o.Settings, Versions: routerdir.CurrentVersions(), Dataset: col.Name}
	log := &report.RunLog{Timings: map[string]float64{}, Stages: map[string]*engine.Stats{StageValidate: {}}}
	for _, c := range d.Configs {
		progress.StartUnit(o.Progress, StageValidate, d.Name+": "+c.Name)
		res, err := train.Validation(col, settings(c), d.Seeds, o.Progress)
		var secs float64
		if res != nil {
			secs = res.Seconds
		}
		progress.EndUnit(o.Progress, StageValidate, secs, err == nil)
		if err != nil {
			return nil, fmt.Errorf("%s: config %q: %w", d.File, c.Name, err)
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%s: %s VAL %s over %s\n", d.Name, c.Name, meanStd(res.Mean, res.Std, len(d.Seeds)), seedsNote(d.Seeds))
		}
		log.Timings[c.Name] = res.Seconds
		log.Stages[StageValidate].Ran++
		log.Stages[StageValidate].Seconds += res.Seconds
		man.Configs = append(man.Configs, ValidationRow{Name: c.Name, ValResult: res})
	}
	// Only training tasks have validation rows; OOD tasks are test-only.
	for _, t := range col.Tasks {
		if _, ok := man.Configs[0].Tasks[t.Name]; ok {
			man.Tasks = append(man.Tasks, t.Name)
		}
	}
	rankValidation(man.Configs)
	log.Seconds = time.Since(start).Seconds()

	dir := filepath.Join(o.Out, "validation")
	path := filepath.Join(dir, d.Name+".csv")
	if err := atomicfile.Write(path, validationCSV(man)); err != nil {
		return nil, err
	}
	mpath := filepath.Join(dir, d.Name+".manifest.json")
	if err := report.WriteManifest(mpath, man, log); err != nil {
		return nil, err
	}
	return &Result{Written: []string{path, mpath}, Stages: log.Stages}, nil
}

// StageValidate names the units of validate declarations in the progress
// and the stage counters: they train outside the engine's stages.
const StageValidate = "validate"

// meanStd prints a mean over n seeds: "56.12 ± 0.40", or "56.12" for one
// seed, whose std says nothing.
func meanStd(mean, std float64, n int) string {
	if n > 1 {
		return fmt.Sprintf("%.2f ± %.2f", mean, std)
	}
	return fmt.Sprintf("%.2f", mean)
}

// seedsNote says which seeds a value is over: "seed 1", "seeds [1 2 3]".
func seedsNote(seeds []int64) string {
	if len(seeds) == 1 {
		return fmt.Sprintf("seed %d", seeds[0])
	}
	return fmt.Sprintf("seeds %v", seeds)
}

// rankValidation orders the rows best first by mean validation accuracy
// (ties keep the declaration's order) and numbers them.
func rankValidation(rows []ValidationRow) {
	slices.SortStableFunc(rows, func(a, b ValidationRow) int { return cmp.Compare(b.Mean, a.Mean) })
	for i := range rows {
		rows[i].Rank = i + 1
	}
}

// validationCSV renders one row per configuration, best first: the
// settings applied, the seeds, the mean and std of the validation accuracy
// over seeds and each task's mean.
func validationCSV(m *ValidationManifest) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(append([]string{"rank", "name", "settings", "seeds", "val_mean", "val_std"}, m.Tasks...))
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, r := range m.Configs {
		var seeds []string
		for _, s := range r.Seeds {
			seeds = append(seeds, strconv.FormatInt(s, 10))
		}
		// One seed has no spread: the std cell stays empty, not 0.00.
		std := ""
		if len(r.Seeds) > 1 {
			std = f(r.Std)
		}
		rec := []string{strconv.Itoa(r.Rank), r.Name, strings.Join(r.Settings, ";"), strings.Join(seeds, " "), f(r.Mean), std}
		for _, t := range m.Tasks {
			rec = append(rec, f(r.Tasks[t]))
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}
