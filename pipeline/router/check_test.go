package router

import (
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/backend"
)

// TestSettingsThatCannotApply: h beyond the other queries of a batch, and
// k_pos / k_neg beyond the LLMs, used to be clamped silently in MakeLabels;
// they are an error naming the setting, its value and the bound.
func TestSettingsThatCannotApply(t *testing.T) {
	for _, c := range []struct{ set, want string }{
		{"h=1000", "setting h=1000: a batch of batch_size=64 has at most 63 other queries"},
		{"h=64", "want h <= 63"},
		{"router=zooter;baseline_lambda=0.5;batch_size=8;h=8", "setting h=8"},
	} {
		err := ApplySettings(NewStore(1), []string{c.set})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s: error %v, want one containing %q", c.set, err, c.want)
		}
	}
	// h is only bounded where the sample-sample loss is on.
	for _, s := range []string{"h=63", "h=1000;lambda=0", "router=cosine;h=1000"} {
		if err := ApplySettings(NewStore(1), []string{s}); err != nil {
			t.Errorf("--set %s: %v", s, err)
		}
	}

	b := backend.MustNew()
	ex := synthetic(128, 16, 4, 3)
	for _, c := range []struct{ set, want string }{
		{"k_pos=10", "setting k_pos=10: more than the 4 LLMs to rank (want <= 4)"},
		{"k_neg=5", "setting k_neg=5: more than the 4 LLMs"},
	} {
		store := NewStore(1)
		if err := ApplySettings(store, []string{"steps=2;eval_every=1;dim=8", c.set}); err != nil {
			t.Fatal(err)
		}
		_, err := Train(b, store, ex, ex, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s on 4 LLMs: error %v, want one containing %q", c.set, err, c.want)
		}
	}
	// The default K = 3 shrinks to 2 LLMs (paper Table 8 trains on 2), and
	// the cross-entropy kinds do not read k_pos at all.
	two := synthetic(128, 16, 2, 3)
	for _, s := range []string{"router=routerdc", "router=cosine;k_pos=10"} {
		store := NewStore(1)
		if err := ApplySettings(store, []string{"steps=2;eval_every=1;dim=8", s}); err != nil {
			t.Fatal(err)
		}
		if _, err := Train(b, store, two, two, nil); err != nil {
			t.Errorf("%s on 2 LLMs: %v", s, err)
		}
	}
}
