package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// TestSettingsNote: the note under the tables names every setting RouterDC
// reads whose default is ours, with its value, and none of the paper's.
func TestSettingsNote(t *testing.T) {
	note := SettingsNote()
	paper, ours := KindSettings("routerdc")
	if len(ours) == 0 || len(paper) == 0 {
		t.Fatalf("RouterDC reads %d paper and %d ours settings", len(paper), len(ours))
	}
	for _, s := range ours {
		if kv := fmt.Sprintf("%s=%v", s.Key, s.Default); !strings.Contains(note, kv) {
			t.Errorf("note lacks ours %s: %s", kv, note)
		}
	}
	for _, s := range paper {
		if strings.Contains(note, " "+s.Key+"=") {
			t.Errorf("note lists the paper's %s as ours: %s", s.Key, note)
		}
	}
	for _, key := range []string{"dim", "input_dropout", "learning_rate"} {
		for _, s := range routers.Settings() {
			if s.Key == key && s.Origin != routers.Ours {
				t.Errorf("%s is marked %s; the README's deviations call it ours", key, s.Origin)
			}
		}
	}
}
