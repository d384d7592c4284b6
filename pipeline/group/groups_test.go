package group

import (
	"math"
	"reflect"
	"testing"
)

func TestContingency(t *testing.T) {
	got := Contingency([]int{0, 0, 0, 1, 1, 1}, []int{5, 5, 7, 7, 9, 9})
	want := [][]int{{2, 1, 0}, {0, 1, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestARINMI(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g", name, got, want)
		}
	}
	a := []int{0, 0, 1, 1, 2, 2, 2}
	perm := []int{7, 7, 3, 3, -1, -1, -1} // same partition, other names
	near("ARI identical", ARI(a, a), 1)
	near("ARI permuted", ARI(a, perm), 1)
	near("NMI identical", NMI(a, a), 1)
	near("NMI permuted", NMI(a, perm), 1)

	// Textbook example (scikit-learn user guide): contingency [[2,1,0],[0,1,2]].
	// Pairs: index = 1+1 = 2, rows 3+3 = 6, cols 1+1+1 = 3, C(6,2) = 15;
	// expected = 6*3/15 = 1.2, max = 4.5: ARI = 0.8/3.3 = 8/33.
	// MI = 2*(2/6) ln 2 = (2/3) ln 2, H(a) = ln 2, H(b) = ln 3:
	// NMI = (2/3 ln 2) / ((ln 2 + ln 3)/2) = 4 ln 2 / (3 ln 6).
	x := []int{0, 0, 0, 1, 1, 1}
	y := []int{0, 0, 1, 1, 2, 2}
	near("ARI textbook", ARI(x, y), 8.0/33)
	near("NMI textbook", NMI(x, y), 4*math.Ln2/(3*math.Log(6)))
	near("ARI symmetric", ARI(y, x), 8.0/33)
	near("NMI symmetric", NMI(y, x), 4*math.Ln2/(3*math.Log(6)))

	// Independent 2x2 design: every cell 1 -> MI 0; ARI = (0 - 1*... )
	// index 0, rows 1+1, cols 1+1, C(4,2) = 6: expected 4/6, max 2 ->
	// ARI = (0 - 2/3)/(2 - 2/3) = -1/2.
	p := []int{0, 0, 1, 1}
	q := []int{0, 1, 0, 1}
	near("ARI independent", ARI(p, q), -0.5)
	near("NMI independent", NMI(p, q), 0)

	one := []int{4, 4, 4, 4}
	near("ARI both one group", ARI(one, one), 1)
	near("NMI both one group", NMI(one, one), 1)
	near("NMI one group vs split", NMI(one, p), 0)
	near("ARI one group vs split", ARI(one, p), 0)
	single := []int{0, 1, 2, 3}
	near("ARI both singletons", ARI(single, []int{9, 8, 7, 6}), 1)
	near("ARI empty", ARI(nil, nil), 1)

	defer func() {
		if recover() == nil {
			t.Error("length mismatch did not panic")
		}
	}()
	ARI([]int{1}, []int{1, 2})
}
