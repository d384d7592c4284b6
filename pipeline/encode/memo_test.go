package encode

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
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

// batchBits is a fake expensive encoder whose vectors, like a neural
// network's last bits, depend on the whole batch it is given.
type batchBits struct {
	name string
	mu   sync.Mutex
	n    int
}

func (b *batchBits) Name() string           { return b.name }
func (b *batchBits) Dim() int               { return 2 }
func (b *batchBits) Save(path string) error { return nil }
func (b *batchBits) Encode(texts []string) ([][]float32, error) {
	b.mu.Lock()
	b.n += len(texts)
	b.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // let concurrent callers overlap
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t)), float32(len(texts)) + float32(i)/1000}
	}
	return out, nil
}

// joinedFake joins batchBits' vectors with the text's length.
type joinedFake struct{ part *batchBits }

func (j joinedFake) Name() string           { return j.part.name + "+len" }
func (j joinedFake) Dim() int               { return 3 }
func (j joinedFake) Save(path string) error { return nil }
func (j joinedFake) Part() Encoder          { return j.part }
func (j joinedFake) Encode(texts []string) ([][]float32, error) {
	p, err := j.part.Encode(texts)
	if err != nil {
		return nil, err
	}
	return j.Join(texts, p)
}
func (j joinedFake) Join(texts []string, part [][]float32) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range texts {
		out[i] = append(slices.Clone(part[i]), float32(len(texts[i])))
	}
	return out, nil
}

// The embed stage's units (side by side under --jobs) ask NewMemo for the
// same texts in different orders, through the part alone and through an
// encoder joined to it: the network runs once, and every memo holds the
// same bits whichever unit came first.
func TestNewMemoEmbedsASetOnce(t *testing.T) {
	part := &batchBits{name: "fake-net-" + t.Name()}
	texts := []string{"b", "a", "ccc", "a", "dd"}
	reversed := slices.Clone(texts)
	slices.Reverse(reversed)
	memos := make([]*Memo, 4)
	var wg sync.WaitGroup
	for i := range memos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var enc Persistent = part
			in := texts
			if i%2 == 1 {
				enc, in = joinedFake{part}, reversed
			}
			m, err := NewMemo(enc, in)
			if err != nil {
				t.Error(err)
			}
			memos[i] = m
		}()
	}
	wg.Wait()
	if part.n != 4 {
		t.Fatalf("the network embedded %d texts for 4 distinct ones asked by 4 units", part.n)
	}
	want, _ := part.Encode([]string{"a", "b", "ccc", "dd"})
	for i, m := range memos {
		for j, text := range []string{"a", "b", "ccc", "dd"} {
			got, err := m.Encode([]string{text})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[0][:2], want[j]) {
				t.Errorf("memo %d, %q: %v, want %v (the sorted set's vectors)", i, text, got[0], want[j])
			}
			if i%2 == 1 && got[0][2] != float32(len(text)) {
				t.Errorf("memo %d, %q: joined part %v", i, text, got[0][2])
			}
		}
	}
}

type failing struct{ batchBits }

func (f *failing) Encode(texts []string) ([][]float32, error) {
	return nil, errors.New("out of memory")
}

func TestNewMemoForgetsAFailedSet(t *testing.T) {
	f := &failing{batchBits{name: "fake-failing-" + t.Name()}}
	if _, err := NewMemo(f, []string{"x"}); err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("err = %v", err)
	}
	ok := &batchBits{name: f.name} // the same model, now working
	if _, err := NewMemo(ok, []string{"x"}); err != nil || ok.n != 1 {
		t.Fatalf("after a failure: err %v, %d texts embedded (want a new try)", err, ok.n)
	}
}
