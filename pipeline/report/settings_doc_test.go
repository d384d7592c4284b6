package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// TestSettingsNote: the note under the tables names every setting a
// default RouterDC run reads whose default is ours, with its value, none of
// the paper's and none of the encoders a default run does not use; and it
// is the same on every call (map order must not leak into it).
func TestSettingsNote(t *testing.T) {
	note := SettingsNote()
	paper, ours := KindSettings("routerdc")
	if len(ours) == 0 || len(paper) == 0 {
		t.Fatalf("RouterDC reads %d paper and %d ours settings", len(paper), len(ours))
	}
	for _, s := range ours {
		kv := fmt.Sprintf("%s=%v", s.Key, s.Default)
		if in := strings.Contains(note, kv); in == encode.OnlyOtherKinds(s.Key) {
			t.Errorf("note has ours %s: %v, want %v: %s", kv, in, !in, note)
		}
	}
	for _, key := range []string{"encoder=hashed", "encoder_bits=12"} {
		if !strings.Contains(note, key) {
			t.Errorf("note lacks the default encoder's %s: %s", key, note)
		}
	}
	for i := 0; i < 20; i++ {
		if again := SettingsNote(); again != note {
			t.Fatalf("two notes differ:\n%s\n%s", note, again)
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
