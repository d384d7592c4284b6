package uselite

import (
	"fmt"
	"path/filepath"

	"github.com/routerdc-go/routerdc/pipeline/backend"
	"github.com/routerdc-go/routerdc/pipeline/data"
)

// Encoder embeds texts with USE-lite: the tokenizer and model of the
// pinned package's files in one folder.
type Encoder struct {
	dir    string
	source string
	tok    *Tokenizer
	model  *Model
}

// ResolveDir is the package folder a setting names: dir itself, or when
// empty the default in the encoders folder ($ROUTERDC_ENCODERS or the
// project's data/encoders).
func ResolveDir(dir string) string {
	if dir == "" {
		return DefaultDir(data.EncodersDir())
	}
	return dir
}

// Open verifies the package's files in dir and loads them.
func Open(dir string) (*Encoder, error) {
	source, err := CheckDir(dir)
	if err != nil {
		return nil, err
	}
	tok, err := LoadTokenizer(filepath.Join(dir, "dist", "vocab.json"))
	if err != nil {
		return nil, err
	}
	ws, err := ReadWeights(filepath.Join(dir, "dist", "model.json"))
	if err != nil {
		return nil, err
	}
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	m, err := NewModel(b, ws)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > m.vocab {
		return nil, fmt.Errorf("uselite: %s: vocab.json has %d pieces, the embedding %d rows", dir, tok.VocabSize(), m.vocab)
	}
	return &Encoder{dir: dir, source: source, tok: tok, model: m}, nil
}

// Source is the SHA256 over the files read (see CheckDir).
func (e *Encoder) Source() string { return e.source }

// Name identifies the model by its files' content.
func (e *Encoder) Name() string { return "use-lite-" + e.source[:16] }

// Dim is 512.
func (e *Encoder) Dim() int { return Dim }

// Tokenize returns the ids the model reads for text (all of them; the
// model uses the first MaxLen).
func (e *Encoder) Tokenize(text string) []int { return e.tok.Encode(text) }

// Encode returns one unit vector per text.
func (e *Encoder) Encode(texts []string) ([][]float32, error) {
	ids := make([][]int, len(texts))
	for i, t := range texts {
		ids[i] = e.tok.Encode(t)
	}
	return e.model.Forward(ids)
}
