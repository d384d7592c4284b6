package main

import (
	"fmt"
	"io"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/cache"
	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/engine"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/stages"
)

// trainGroups are the group=ours assignments of `routerdc train`'s
// training rows (nil when the settings do not use them), from the
// pipeline's own embed, t-SNE and group stages: with a cache directory the
// exact t-SNE of the training queries (tens of seconds) runs once per data,
// seed and encoder, as in `routerdc reproduce`, and a later train with the
// same ones loads it. cacheDir "" keeps nothing. It says on log what it did.
func trainGroups(col *data.Collection, seed int64, sets []string, cacheDir string, log, progress io.Writer) ([]int, map[string]*engine.Stats, error) {
	store := router.NewStore(seed)
	if err := router.ApplySettings(store, sets); err != nil {
		return nil, nil, err
	}
	if !router.UsesOurGroups(router.ReadParams(store)) {
		return nil, nil, nil
	}
	opts := stages.Options{Data: col, Progress: progress}
	if cacheDir != "" {
		c, err := cache.Open(cacheDir, cache.DefaultWait, log)
		if err != nil {
			return nil, nil, err
		}
		defer c.Close()
		opts.Cache = c
	}
	start := time.Now()
	g, err := stages.Groups(opts, stages.Method{Name: "routerdc train", Settings: sets}, seed)
	if err != nil {
		return nil, nil, err
	}
	switch st := g.Stats[engine.StageGroup]; {
	case st != nil && st.Cached > 0:
		fmt.Fprintf(log, "grouping (group=ours): from the cache in %s\n", cacheDir)
	case cacheDir == "":
		fmt.Fprintf(log, "grouping (group=ours): t-SNE + k-means of %d training queries in %.1fs (--no-cache: not kept)\n",
			len(g.Groups), time.Since(start).Seconds())
	default:
		fmt.Fprintf(log, "grouping (group=ours): t-SNE + k-means of %d training queries in %.1fs, cached in %s for the next train with this data and seed\n",
			len(g.Groups), time.Since(start).Seconds(), cacheDir)
	}
	return g.Groups, g.Stats, nil
}
