package encode

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func svdTexts(n int) []string {
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"}
	var out []string
	for i := 0; i < n; i++ {
		var b strings.Builder
		for j := 0; j < 3+i%4; j++ {
			fmt.Fprintf(&b, "%s ", words[(i*7+j*5+j*j)%len(words)])
		}
		fmt.Fprintf(&b, "question %d", i)
		out = append(out, b.String())
	}
	return out
}

// With no more texts than the sketch has columns, the randomized SVD spans
// the whole row space, so it must give the exact top singular vectors.
func TestSVDMatchesExactSVD(t *testing.T) {
	texts := svdTexts(14)
	const k = 4
	s, err := FitSVD(HashedConfig{Bits: 10}, k, texts, 1)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.hashed.encodeSparse(texts)
	if err != nil {
		t.Fatal(err)
	}
	a := mat.NewDense(len(texts), s.hashed.Dim(), nil)
	for i, r := range rows {
		for j, b := range r.idx {
			a.Set(i, int(b), float64(r.val[j]))
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		t.Fatal("exact SVD failed")
	}
	var v mat.Dense
	svd.VTo(&v)
	for c := 0; c < k; c++ {
		// Compare |<v_exact, v_ours>| = 1 (a singular vector's sign is free).
		var d, norm float64
		for i, b := range s.buckets {
			x := float64(s.comp[i*k+c])
			d += x * v.At(int(b), c)
			norm += x * x
		}
		if got := math.Abs(d); math.Abs(got-1) > 1e-5 || math.Abs(norm-1) > 1e-5 {
			t.Errorf("singular vector %d: |<exact, ours>| = %.8f, |ours|^2 = %.8f, want 1", c, got, norm)
		}
	}
}

func TestSVDSaveLoadEncodesIdentically(t *testing.T) {
	texts := svdTexts(60)
	s, err := FitSVD(HashedConfig{Bits: 12}, 8, texts, 1)
	if err != nil {
		t.Fatal(err)
	}
	again, err := FitSVD(HashedConfig{Bits: 12}, 8, texts, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != again.Name() {
		t.Errorf("two fits differ: %s and %s", s.Name(), again.Name())
	}
	path := filepath.Join(t.TempDir(), "encoder.json")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name() != s.Name() || l.Dim() != 8 {
		t.Fatalf("loaded %s dim %d, want %s dim 8", l.Name(), l.Dim(), s.Name())
	}
	probe := append(texts[:5:5], "beta gamma unseen words", "zzzz qqqq", "")
	want, _ := s.Encode(probe)
	got, err := l.Encode(probe)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("text %d value %d: loaded %v, fitted %v", i, j, got[i][j], want[i][j])
			}
		}
	}
	var norm float64
	for _, x := range want[0] {
		norm += float64(x) * float64(x)
	}
	if math.Abs(norm-1) > 1e-5 {
		t.Errorf("|encoding|^2 = %v, want 1", norm)
	}
	for _, x := range want[len(want)-1] {
		if x != 0 {
			t.Fatalf("empty text encodes to %v, want zeros", want[len(want)-1])
		}
	}
}

func TestSVDLoadRejectsDamage(t *testing.T) {
	s, err := FitSVD(HashedConfig{Bits: 12}, 4, svdTexts(30), 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "encoder.json")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	coords, _ := os.ReadFile(path + svdCoordsSuffix)
	coords[7] ^= 0x40
	if err := os.WriteFile(path+svdCoordsSuffix, coords, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "encoder.json.coords: SHA256 differs") {
		t.Errorf("edited coordinates: err = %v, want a SHA256 error naming the file", err)
	}
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	js, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(js), "question 3", "question 4", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "differs from the saved") {
		t.Errorf("edited texts: err = %v, want a rebuilt-encoder mismatch", err)
	}
	if _, err := FitSVD(HashedConfig{Bits: 12}, 40, svdTexts(30), 1); err == nil || !strings.Contains(err.Error(), "30 training questions") {
		t.Errorf("dim above the number of texts: err = %v", err)
	}
}
