package routers

import (
	"reflect"
	"testing"
)

// TestParse: --set errors name the setting as written, what is wrong and
// what is wanted; a typo gets the closest key. They used to be GoMLX's
// ("full path", "root scope", "invalid character 'a' looking for beginning
// of value").
func TestParse(t *testing.T) {
	Declare(
		Float("fake_lambda", 1, Paper, "sample-sample loss weight", AtLeast(0.0)),
		Int("fake_steps", 10, Paper, "training steps", AtLeast(1)),
		Float("fake_drop", 0.5, Ours, "dropout", Fraction()),
		String("fake_act", "tanh", Ours, "activation", "tanh", "relu"),
		StringCheck("fake_kind", "a", Paper, "kind", func() string { return "want a or b" },
			func(v string) bool { return v == "a" || v == "b" }),
	)
	got, err := Parse(" fake_lambda = 0.5 ;;fake_steps=1_000;fake_act=relu;fake_kind=b")
	want := []Assignment{{"fake_lambda", 0.5}, {"fake_steps", 1000}, {"fake_act", "relu"}, {"fake_kind", "b"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Parse: %v, %v; want %v", got, err, want)
	}
	for _, c := range []struct{ in, want string }{
		{"fake_lamda=0.5", `fake_lamda=0.5: unknown setting "fake_lamda" (did you mean "fake_lambda"? "routerdc settings" lists them all)`},
		{"fake_lambda=abc", `fake_lambda=abc: want a number >= 0 (sample-sample loss weight), got "abc"`},
		{"fake_lambda=-1", `fake_lambda=-1: want a number >= 0 (sample-sample loss weight), got "-1"`},
		{"fake_lambda=NaN", `fake_lambda=NaN: want a number >= 0 (sample-sample loss weight), got "NaN"`},
		{"fake_steps=1.5", `fake_steps=1.5: want an integer >= 1 (training steps), got "1.5"`},
		{"fake_drop=1", `fake_drop=1: want a number in [0, 1) (dropout), got "1"`},
		{"fake_act=gelu", `fake_act=gelu: want one of tanh, relu (activation), got "gelu"`},
		{"fake_kind=c", `fake_kind=c: want a or b (kind), got "c"`},
		{"fake_steps=2;fake_steps", `fake_steps: want key=value, e.g. lambda=0.5 ("routerdc settings" lists the keys)`},
		{"=3", `=3: want key=value, e.g. lambda=0.5 ("routerdc settings" lists the keys)`},
		// Nothing is close: no suggestion.
		{"xyzzy=1", `xyzzy=1: unknown setting "xyzzy" ("routerdc settings" lists them all)`},
	} {
		_, err := Parse(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%q):\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"lamda", "lambda", 1}, {"kpos", "k_pos", 1}, {"lambda", "lambda", 0}, {"abc", "", 3}, {"dmi", "dim", 2}} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}
