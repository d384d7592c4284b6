package answer

import (
	"math"
	"strings"
	"testing"
)

func TestMCScore(t *testing.T) {
	tests := []struct {
		name   string
		ll     []float64
		target int
		want   float64
	}{
		// exp(-2.3)=0.10025884372280375, exp(-0.25)=0.7788007830714049,
		// exp(-3.1)=0.0450492023935578, exp(-4.0)=0.01831563888873418;
		// sum 0.9424244680765006; 0.7788007830714049/0.9424244680765006.
		{"argmax is target", []float64{-2.3, -0.25, -3.1, -4.0}, 1, 0.8263800542667853},
		{"argmax is not target", []float64{-2.3, -0.25, -3.1, -4.0}, 0, 0},
		// A tie goes to the first maximum: option 0 wins, so target 1 scores
		// 0 and target 0 scores e^-1/(2e^-1+e^-2) = 1/(2+e^-1).
		{"tie, later target", []float64{-1, -1, -2}, 1, 0},
		{"tie, first target", []float64{-1, -1, -2}, 0, 0.4223187982515182},
		// exp(-1000) underflows to 0: only the max-shifted softmax gives
		// 1/(1+e^-1).
		{"very negative", []float64{-1000, -1001}, 0, 0.7310585786300049},
		{"-Inf option", []float64{-0.5, math.Inf(-1)}, 0, 1},
		{"single certain option", []float64{0, -50, -60, -70}, 0, 1 / (1 + math.Exp(-50) + math.Exp(-60) + math.Exp(-70))},
	}
	for _, tt := range tests {
		got := MCScore(tt.ll, tt.target)
		if math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: MCScore(%v, %d) = %.17g, want %.17g", tt.name, tt.ll, tt.target, got, tt.want)
		}
	}
	invalid := []struct {
		ll     []float64
		target int
	}{
		{nil, 0},
		{[]float64{-1, -2}, -1},
		{[]float64{-1, -2}, 2},
		{[]float64{-1, math.NaN()}, 0},
		{[]float64{math.Inf(1), -2}, 0},
		{[]float64{math.Inf(-1), math.Inf(-1)}, 0},
	}
	for _, tt := range invalid {
		if got := MCScore(tt.ll, tt.target); !math.IsNaN(got) {
			t.Errorf("MCScore(%v, %d) = %v, want NaN", tt.ll, tt.target, got)
		}
	}
}

func TestArgmax(t *testing.T) {
	tests := []struct {
		xs   []float64
		want int
	}{
		{nil, -1},
		{[]float64{3}, 0},
		{[]float64{1, 3, 3, 2}, 1},
		{[]float64{math.NaN(), -5, -4}, 2},
		{[]float64{math.Inf(-1), math.Inf(-1)}, 0},
	}
	for _, tt := range tests {
		if got := Argmax(tt.xs); got != tt.want {
			t.Errorf("Argmax(%v) = %d, want %d", tt.xs, got, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Normalized, "normalized": Normalized, "RouterDC": RouterDC, " flexible ": Flexible} {
		got, err := ParseMode(in)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("strict"); err == nil {
		t.Error("ParseMode(strict) succeeded")
	}
}

func TestGSM8K(t *testing.T) {
	const ref10 = "3 boxes * 4 = <<3*4=12>>12 apples.\n12 - 2 = <<12-2=10>>10\n#### 10"
	tests := []struct {
		gen, ref                     string
		routerdc, normalized, flexib float64
	}{
		{" 3*4=12, 12-2=10.\n#### 10", ref10, 1, 1, 1},
		{" 3+4=7, 7-2=5\n#### 5", ref10, 0, 0, 0},
		// Thousands separators and a trailing dot: only RouterDC's string
		// match cares.
		{"#### 1,000", "#### 1000", 0, 1, 1},
		{"#### 1000", "so 1,000 in all\n#### 1,000", 0, 1, 1},
		{"#### 10.", ref10, 0, 1, 1},
		{"#### -5", "#### -5", 1, 1, 1},
		// No "#### ": only flexible-extract finds the number.
		{"The answer is 10", ref10, 0, 0, 1},
		// The first "#### N" counts for strict matching, the last number for
		// flexible.
		{"#### 10\n\n#### 7", ref10, 1, 1, 0},
		// "$" is not in the strict regex's class.
		{"#### $10", ref10, 0, 0, 1},
		{"", ref10, 0, 0, 0},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			mode Mode
			want float64
		}{{RouterDC, tt.routerdc}, {Normalized, tt.normalized}, {Flexible, tt.flexib}, {"", tt.normalized}} {
			got, err := GSM8K(c.mode)(tt.gen, tt.ref)
			if err != nil || got != c.want {
				t.Errorf("GSM8K(%q)(%q, %q) = %v, %v; want %v", c.mode, tt.gen, tt.ref, got, err, c.want)
			}
		}
	}
	// A reference without "#### N": RouterDC's notebook crashes, so it is an
	// error; lm-eval's exact_match compares the whole normalised reference.
	if _, err := GSM8K(RouterDC)("#### 18", "18"); err == nil {
		t.Error("RouterDC mode accepted a reference without ####")
	}
	if got, err := GSM8K(Normalized)("#### 18", "18"); err != nil || got != 1 {
		t.Errorf("normalized mode, bare reference: %v, %v; want 1", got, err)
	}
}

func TestNormalizeGSM8K(t *testing.T) {
	tests := map[string]string{
		"Janet sells 9 eggs.\nShe makes $18.\n#### 18": "18",
		"$1,000.":        "1000",
		"ABC":            "abc",
		"10.\n":          "10\n",
		"1.5":            "1.5",
		"#### 3\n#### 4": "4",
	}
	for in, want := range tests {
		if got := NormalizeGSM8K(in); got != want {
			t.Errorf("NormalizeGSM8K(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckerMean(t *testing.T) {
	gens := []string{" 3*4=12, 12-2=10.\n#### 10", " He has 12 apples, minus 2 is 10.\n#### 10", " 3+4=7, 7-2=5\n#### 5"}
	// Two of three samples end "#### 10".
	got, err := GSM8K(RouterDC).Mean(gens, "#### 10")
	if err != nil || math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("Mean = %v, %v; want 2/3", got, err)
	}
	if _, err := GSM8K(RouterDC).Mean(nil, "#### 10"); err == nil {
		t.Error("Mean of no generations succeeded")
	}
	if _, err := GSM8K(RouterDC).Mean(gens, "no answer here"); err == nil {
		t.Error("Mean with an unreadable reference succeeded")
	}
}

func TestFor(t *testing.T) {
	for _, tt := range []struct {
		task string
		mode Mode
		want float64 // on "#### 1,000" against "#### 1000"
	}{
		{"GSM8K", RouterDC, 0},
		{"gsm8k", Normalized, 1},
		{"gsm8k_train", "", 1},
	} {
		c, err := For(tt.task, tt.mode)
		if err != nil {
			t.Fatalf("For(%q, %q): %v", tt.task, tt.mode, err)
		}
		if got, _ := c("#### 1,000", "#### 1000"); got != tt.want {
			t.Errorf("For(%q, %q) scored %v, want %v", tt.task, tt.mode, got, tt.want)
		}
	}
	c, err := For("minerva_math_prealgebra", RouterDC)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "so $\\boxed{\\frac12}$"); err != nil || got != 1 {
		t.Errorf("MATH checker via For: %v, %v", got, err)
	}
	for _, bad := range []struct {
		task string
		mode Mode
		msg  string
	}{
		{"MMLU", "", "MCScore"},
		{"arc_challenge", "", "MCScore"},
		{"humaneval", "", "execute"},
		{"MBPP", "", "execute"},
		{"GSM8K", "fuzzy", "unknown answer mode"},
		{"hellaswag", "", "unknown task"},
	} {
		if _, err := For(bad.task, bad.mode); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("For(%q, %q) error %v, want one containing %q", bad.task, bad.mode, err, bad.msg)
		}
	}
}

func TestLastBoxed(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`so $-6 \cdot 5 = \boxed{-30}$ is the answer.`, "-30", true},
		{`$\boxed{\frac{1}{2}}$`, `\frac{1}{2}`, true},
		{`first \boxed{1}, then \boxed{2}.`, "2", true},
		{`\boxed{\text{(B)}}`, `\text{(B)}`, true},
		{`the answer is \boxed 5$ done`, "5", true},
		{`\fbox{3}`, "3", true},
		{`\boxed{3`, "", false},
		{`\boxed\frac{1}{2}`, "", false},
		{`no box here`, "", false},
	}
	for _, tt := range tests {
		got, ok := LastBoxed(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LastBoxed(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizeMATH(t *testing.T) {
	tests := map[string]string{
		`$\frac{1}{2}$`:     `\frac{1}{2}`,
		`\frac12`:           `\frac{1}{2}`,
		`\dfrac12`:          `\frac{1}{2}`,
		`\tfrac{3}{4}`:      `\frac{3}{4}`,
		`\sqrt2`:            `\sqrt{2}`,
		`10\text{ cm}`:      "10",
		`12 \mbox{ inches}`: "12",
		`90^\circ`:          "90",
		`90^{\circ}`:        "90",
		`\left(1,2\right)`:  "(1,2)",
		`x = 5`:             "5",
		`1,000`:             "1000",
		`1{,}000`:           "1000",
		`5.0`:               "5",
		`-3.00`:             "-3",
		`\text{(B)}`:        "(B)",
		`\$5`:               "5",
		`20\%`:              "20",
		`5 dollars`:         "5",
		`\textbf{7}`:        "7",
		`\boxed{42}`:        "42",
		// minerva: " and " becomes ",", and "3,4" is then all digits.
		`3\text{ and }4`:       "34",
		`(3\text{ and }4)`:     "(3,4)",
		`The answer is $17$.`:  "17",
		`0.5`:                  "0.5",
		`\frac{\sqrt{3}}{2}`:   `\frac{\sqrt{3}}{2}`,
		`2\!\cdot\!3`:          `2\cdot3`,
		`\overline{3}`:         "3",
		`4\text{ square feet}`: "4",
	}
	for in, want := range tests {
		if got := NormalizeMATH(in); got != want {
			t.Errorf("NormalizeMATH(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEquivalentMATH(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`\frac{1}{2}`, "0.5", true},
		{"1/2", `\frac{1}{2}`, true},
		{`-\frac{2}{3}`, `\frac{-2}{3}`, true},
		{"3", "3.00", true},
		{".5", "0.5", true},
		{"(1,2)", "(1,2)", true},
		{"0.333", `\frac{1}{3}`, false},
		{"", "", false},
		{"5", "-5", false},
		{`\frac{1}{0}`, `\frac{2}{0}`, false},
		// Needs symbolic simplification: not attempted.
		{`\sqrt{8}`, `2\sqrt{2}`, false},
		{"x+1", "1+x", false},
		// ParseFloat would read these; an answer is not "inf".
		{"inf", "Inf", false},
	}
	for _, tt := range tests {
		if got := EquivalentMATH(tt.a, tt.b); got != tt.want {
			t.Errorf("EquivalentMATH(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestMATH(t *testing.T) {
	const solution = `Dividing $-32$ by $5$ gives $-6$ with a remainder of $-2$, so $-6 \cdot 5 = \boxed{-30}$ is the answer.`
	tests := []struct {
		gen                  string
		routerdc, normalized float64
	}{
		{"We need -30.\nFinal Answer: The final answer is $-30$. I hope it is correct.", 1, 1},
		// Generation cut by the stop sequence "I hope it is correct.".
		{"Final Answer: The final answer is $-30$. ", 1, 1},
		// lm-eval's regex needs a character and a space before "I hope".
		{"Final Answer: The final answer is $-30$", 0, 0},
		{"Final Answer: The final answer is $-25$. I hope it is correct.", 0, 0},
		// Only the boxed answer: the RouterDC (lm-eval) extraction misses it.
		{`so the answer is $\boxed{-30}$.`, 0, 1},
		// The Final Answer line wins over a box.
		{"\\boxed{-30}\nFinal Answer: The final answer is $-31$. I hope it is correct.", 0, 0},
		{"I don't know.", 0, 0},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			mode Mode
			want float64
		}{{RouterDC, tt.routerdc}, {Normalized, tt.normalized}, {Flexible, tt.normalized}} {
			got, err := MATH(c.mode)(tt.gen, solution)
			if err != nil || got != c.want {
				t.Errorf("MATH(%q)(%q) = %v, %v; want %v", c.mode, tt.gen, got, err, c.want)
			}
		}
	}
	// Gold and answer written differently but equal in value or after
	// normalisation.
	equal := []struct{ gen, solution string }{
		{"Final Answer: The final answer is $0.5$. I hope it is correct.", `$\boxed{\dfrac{1}{2}}$`},
		{"Final Answer: The final answer is $12$. I hope it is correct.", `$\boxed{12\text{ cm}}$`},
		{"Final Answer: The final answer is $1,\\!000$. I hope it is correct.", `$\boxed{1000}$`},
		{"Final Answer: The final answer is $45^\\circ$. I hope it is correct.", `$\boxed{45}$`},
	}
	for _, e := range equal {
		if got, err := MATH(RouterDC)(e.gen, e.solution); err != nil || got != 1 {
			t.Errorf("MATH(%q, %q) = %v, %v; want 1", e.gen, e.solution, got, err)
		}
	}
	if _, err := MATH(Normalized)("Final Answer: The final answer is $1$.", "no box"); err == nil {
		t.Error("a solution without \\boxed was accepted")
	}
}

// A reference that lost its "#### N" is an error in every mode, not a
// silent 0 for every generation.
func TestGSM8KReferenceWithoutAnswer(t *testing.T) {
	for _, m := range []Mode{Normalized, Flexible, RouterDC} {
		if _, err := GSM8K(m)("so the answer is 3.\n#### 3", "Tom has three apples."); err == nil {
			t.Errorf("mode %s: no error for a reference without #### N", m)
		}
		if got, err := GSM8K(m)("so the answer is 3.\n#### 3", "1 + 2 = 3\n#### 3"); err != nil || got != 1 {
			t.Errorf("mode %s: %v, %v; want 1", m, got, err)
		}
	}
}
