package encode

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
)

// Memo is an encoder with a table of vectors it has already computed. The
// pipeline's embed stage builds one for an Expensive encoder (a neural
// network) over every query of a run and caches the table, so training,
// evaluation and sweeps over router settings never run the network on the
// same text twice. It saves as the encoder it wraps: a router directory
// holds no table.
type Memo struct {
	Persistent
	mu   sync.RWMutex
	vecs map[string][]float32
	// grow: Encode adds the texts it had to encode (a shared memo).
	grow bool
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*Memo{}
)

// Shared returns the process's memo of encoders named like enc (a name
// identifies the weights), which keeps every text it encodes: runs in one
// process that build the same Expensive encoder again (validation over
// seeds and configurations) embed each text once.
func Shared(enc Persistent) *Memo {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	m, ok := shared[enc.Name()]
	if !ok {
		m = &Memo{Persistent: enc, vecs: map[string][]float32{}, grow: true}
		shared[enc.Name()] = m
	}
	return m
}

// NewMemo encodes the distinct texts with enc.
func NewMemo(enc Persistent, texts []string) (*Memo, error) {
	seen := map[string]bool{}
	var uniq []string
	for _, t := range texts {
		if !seen[t] {
			seen[t] = true
			uniq = append(uniq, t)
		}
	}
	vecs, err := enc.Encode(uniq)
	if err != nil {
		return nil, err
	}
	m := &Memo{Persistent: enc, vecs: make(map[string][]float32, len(uniq))}
	for i, t := range uniq {
		m.vecs[t] = vecs[i]
	}
	return m, nil
}

// Len is the number of texts in the table.
func (m *Memo) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.vecs)
}

// Encode looks texts up and encodes only those the table lacks.
func (m *Memo) Encode(texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var miss []string
	var at []int
	m.mu.RLock()
	for i, t := range texts {
		if v, ok := m.vecs[t]; ok {
			out[i] = v
		} else {
			miss = append(miss, t)
			at = append(at, i)
		}
	}
	m.mu.RUnlock()
	if len(miss) > 0 {
		vecs, err := m.Persistent.Encode(miss)
		if err != nil {
			return nil, err
		}
		for j, i := range at {
			out[i] = vecs[j]
		}
		if m.grow {
			m.mu.Lock()
			for j, t := range miss {
				m.vecs[t] = vecs[j]
			}
			m.mu.Unlock()
		}
	}
	return out, nil
}

// memoMagic starts a table file; the version follows it.
const memoMagic = "routerdc-embeddings\n"

// SaveTable writes the table to path atomically: the magic, then the
// encoder's Dim and the number of texts, then per text its length, its
// bytes and Dim float32s (little-endian), in sorted text order so equal
// tables are equal files.
func (m *Memo) SaveTable(path string) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	texts := make([]string, 0, len(m.vecs))
	for t := range m.vecs {
		texts = append(texts, t)
	}
	slices.Sort(texts)
	dim := m.Dim()
	size := len(memoMagic) + 8
	for _, t := range texts {
		size += 4 + len(t) + 4*dim
	}
	buf := make([]byte, 0, size)
	buf = append(buf, memoMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(dim))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(texts)))
	for _, t := range texts {
		v := m.vecs[t]
		if len(v) != dim {
			return fmt.Errorf("encode: embedding of %.40q has %d values, want %d", t, len(v), dim)
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(t)))
		buf = append(buf, t...)
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	}
	return atomicfile.Write(path, buf)
}

// LoadMemo reads a table written by SaveTable for enc, streaming it.
func LoadMemo(enc Persistent, path string) (*Memo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := filepath.Base(path)
	r := bufio.NewReader(f)
	head := make([]byte, len(memoMagic)+8)
	if _, err := io.ReadFull(r, head); err != nil || string(head[:len(memoMagic)]) != memoMagic {
		return nil, fmt.Errorf("encode: %s: not an embeddings table", path)
	}
	dim := int(binary.LittleEndian.Uint32(head[len(memoMagic):]))
	n := int(binary.LittleEndian.Uint32(head[len(memoMagic)+4:]))
	if dim != enc.Dim() {
		return nil, fmt.Errorf("encode: %s: vectors of %d values, the encoder %s gives %d", path, dim, enc.Name(), enc.Dim())
	}
	m := &Memo{Persistent: enc, vecs: make(map[string][]float32, min(n, 1<<20))}
	var word [4]byte
	raw := make([]byte, 4*dim)
	for i := 0; i < n; i++ {
		if _, err := io.ReadFull(r, word[:]); err != nil {
			return nil, fmt.Errorf("encode: %s: record %d: %w", name, i, truncated(err))
		}
		tl := int(binary.LittleEndian.Uint32(word[:]))
		if tl > 1<<24 {
			return nil, fmt.Errorf("encode: %s: record %d: text of %d bytes", name, i, tl)
		}
		text := make([]byte, tl)
		if _, err := io.ReadFull(r, text); err != nil {
			return nil, fmt.Errorf("encode: %s: record %d: %w", name, i, truncated(err))
		}
		if _, err := io.ReadFull(r, raw); err != nil {
			return nil, fmt.Errorf("encode: %s: record %d: %w", name, i, truncated(err))
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		m.vecs[string(text)] = v
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("encode: %s: data after the %d records the header counts", name, n)
	}
	return m, nil
}

func truncated(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("the file ends inside it (truncated)")
	}
	return err
}
