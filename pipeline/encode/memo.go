package encode

import (
	"bufio"
	"crypto/sha256"
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

// NewMemo encodes the distinct texts with enc, an encoder whose Name
// identifies its vectors (an Expensive kind: its weights' content hash). The
// texts are embedded as a sorted set through the process's table of sets
// (see embedSet): the vectors depend on the set only, never on the order of
// texts or on which unit asked first.
func NewMemo(enc Persistent, texts []string) (*Memo, error) {
	uniq := slices.Clone(texts)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	var vecs [][]float32
	var err error
	if j, ok := enc.(Joined); ok {
		var part [][]float32
		if part, err = embedSet(j.Part(), uniq); err == nil {
			vecs, err = j.Join(uniq, part)
		}
	} else {
		vecs, err = embedSet(enc, uniq)
	}
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(uniq) {
		return nil, fmt.Errorf("encode: %s gave %d vectors for %d texts", enc.Name(), len(vecs), len(uniq))
	}
	m := &Memo{Persistent: enc, vecs: make(map[string][]float32, len(uniq))}
	for i, t := range uniq {
		m.vecs[t] = vecs[i]
	}
	return m, nil
}

// Joined is an encoder whose vectors join those of an expensive part (a
// neural network's) with cheap features, as use-lite+ngram does. NewMemo
// embeds the part as the part's own encoder would be, so that a sweep over
// the part and the joined encoder runs the network once per text.
type Joined interface {
	Persistent
	// Part is the expensive encoder; its Name identifies its vectors.
	Part() Encoder
	// Join builds the vectors of texts from the part's vectors of them.
	Join(texts []string, part [][]float32) ([][]float32, error)
}

// sets holds the vectors of the text sets NewMemo embedded last, by encoder
// name and the set's hash. Units running side by side (--jobs) that need
// one set wait for the first to embed it instead of embedding it twice.
var sets = struct {
	sync.Mutex
	m     map[setKey]*setVecs
	order []setKey
}{m: map[setKey]*setVecs{}}

// keptSets bounds the memory of sets: a run's units mostly share one set
// (every query of the data), and a set dropped is embedded again if asked,
// with the same bits.
const keptSets = 4

type setKey struct {
	name string
	sum  [sha256.Size]byte
}

type setVecs struct {
	once sync.Once
	vecs [][]float32
	err  error
}

// embedSet encodes sorted distinct texts with enc, once per process while
// the set is kept.
func embedSet(enc Encoder, sorted []string) ([][]float32, error) {
	h := sha256.New()
	var n [8]byte
	for _, t := range sorted {
		binary.LittleEndian.PutUint64(n[:], uint64(len(t)))
		h.Write(n[:])
		io.WriteString(h, t)
	}
	k := setKey{name: enc.Name()}
	h.Sum(k.sum[:0])
	sets.Lock()
	s, ok := sets.m[k]
	if !ok {
		s = &setVecs{}
		sets.m[k] = s
		sets.order = append(sets.order, k)
		if len(sets.order) > keptSets {
			delete(sets.m, sets.order[0])
			sets.order = sets.order[1:]
		}
	}
	sets.Unlock()
	s.once.Do(func() { s.vecs, s.err = enc.Encode(sorted) })
	if s.err != nil {
		// A failed set is not kept: a later run may succeed.
		sets.Lock()
		if sets.m[k] == s {
			delete(sets.m, k)
			sets.order = slices.DeleteFunc(sets.order, func(o setKey) bool { return o == k })
		}
		sets.Unlock()
	}
	return s.vecs, s.err
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
