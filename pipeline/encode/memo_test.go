package encode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMemoTableRoundTrip(t *testing.T) {
	h := NewHashed(HashedConfig{Bits: 6, Weighting: WeightLog})
	texts := []string{"first query", "second query", "first query", "über 中文 text", ""}
	m, err := NewMemo(h, texts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 4 {
		t.Fatalf("table has %d texts, want the 4 distinct ones", m.Len())
	}
	path := filepath.Join(t.TempDir(), "embeddings.bin")
	if err := m.SaveTable(path); err != nil {
		t.Fatal(err)
	}
	l, err := LoadMemo(h, path)
	if err != nil {
		t.Fatal(err)
	}
	probe := append(texts, "not in the table")
	want, _ := h.Encode(probe)
	got, err := l.Encode(probe)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("text %q value %d: %v, want %v", probe[i], j, got[i][j], want[i][j])
			}
		}
	}
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMemo(h, path); err == nil || !strings.Contains(err.Error(), "record 3: the file ends inside it") {
		t.Errorf("truncated table: err = %v", err)
	}
	if _, err := LoadMemo(NewHashed(HashedConfig{Bits: 7, Weighting: WeightLog}), path); err == nil || !strings.Contains(err.Error(), "vectors of 64 values") {
		t.Errorf("other encoder: err = %v", err)
	}
}

type countingHashed struct {
	*Hashed
	n int
}

func (c *countingHashed) Encode(texts []string) ([][]float32, error) {
	c.n += len(texts)
	return c.Hashed.Encode(texts)
}

func TestSharedMemoEncodesEachTextOnce(t *testing.T) {
	inner := &countingHashed{Hashed: NewHashed(HashedConfig{Bits: 5, Weighting: WeightLog})}
	a := Shared(inner)
	if _, err := a.Encode([]string{"x y", "y z"}); err != nil {
		t.Fatal(err)
	}
	b := Shared(inner) // a second run in the same process
	if b != a {
		t.Fatal("Shared gave two memos for one encoder name")
	}
	got, err := b.Encode([]string{"y z", "x y", "new text"})
	if err != nil {
		t.Fatal(err)
	}
	if inner.n != 3 || len(got) != 3 || got[2] == nil {
		t.Errorf("encoded %d texts for 3 distinct ones (want 3)", inner.n)
	}
}
