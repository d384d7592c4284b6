package train

import (
	"fmt"
	"io"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/evaluate"
	"github.com/routerdc-go/routerdc/pipeline/router"
)

// ValResult is a configuration's routing accuracy on validation splits
// carved from the training files, over several split/training seeds.
type ValResult struct {
	Settings []string  `json:"settings"`
	Seeds    []int64   `json:"seeds"`
	PerSeed  []float64 `json:"val_acc_per_seed"`
	Mean     float64   `json:"val_acc_mean"`
	Std      float64   `json:"val_acc_std"`
	// Tasks is the per-task validation accuracy, mean over seeds.
	Tasks   map[string]float64 `json:"val_tasks"`
	Seconds float64            `json:"seconds"`
}

// DefaultValFraction is the share of each training file held out by
// Validation when the settings do not say otherwise.
const DefaultValFraction = 0.2

// Validation trains a configuration once per seed with a validation split
// (val_fraction, default 0.2; each seed draws its own split) and reports the
// mean per-task routing accuracy on the held-out training rows. It never
// reads a test set: this is the number to choose settings by.
func Validation(col *data.Collection, settings []string, seeds []int64, progress io.Writer) (*ValResult, error) {
	res := &ValResult{Settings: settings, Seeds: seeds, Tasks: map[string]float64{}}
	for _, seed := range seeds {
		store := router.NewStore(seed)
		store.SetParam(router.ParamValFraction, DefaultValFraction)
		if err := router.ApplySettings(store, settings); err != nil {
			return nil, err
		}
		if router.ReadParams(store).ValFraction == 0 {
			return nil, fmt.Errorf("val_fraction=0 leaves no validation rows")
		}
		r, err := Run(col, store, progress)
		if err != nil {
			return nil, err
		}
		rep := r.Meta.Training.(*Report)
		res.PerSeed = append(res.PerSeed, rep.ValAcc)
		for task, a := range rep.ValTasks {
			res.Tasks[task] += a / float64(len(seeds))
		}
		res.Seconds += rep.Timing.TotalS
	}
	res.Mean, res.Std = evaluate.MeanStd(res.PerSeed)
	return res, nil
}
