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
