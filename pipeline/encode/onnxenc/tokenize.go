package onnxenc

import (
	"fmt"
	"path/filepath"

	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"
)

// tokenizer is a Hugging Face tokenizer.json read offline by
// go-huggingface's pure-Go hftokenizer (GoMLX's own, the one onnx-gomlx
// is tested with), with the paper's truncation from the left.
type tokenizer struct {
	tok   *hftokenizer.Tokenizer
	padID int
}

func newTokenizer(dir string) (*tokenizer, error) {
	p := filepath.Join(dir, TokenizerFile)
	tok, err := hftokenizer.NewFromFile(&api.Config{}, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	err = tok.With(api.EncodeOptions{AddSpecialTokens: true, IncludeSpecialTokensMask: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	t := &tokenizer{tok: tok}
	if id, err := tok.SpecialTokenID(api.TokPad); err == nil && id >= 0 {
		t.padID = id
	}
	if probe := tok.Encode("a"); len(probe) == 0 {
		return nil, fmt.Errorf("%s: the tokenizer turns %q into no tokens", p, "a")
	}
	return t, nil
}

// encode returns the token ids of text, at most maxLen of them: a longer
// text keeps its leading and trailing special tokens ([CLS], [SEP]) and
// the end of its content, as the paper truncates from the left (the
// question of a long prompt comes last).
func (t *tokenizer) encode(text string, maxLen int) []int {
	enc := t.tok.EncodeWithAnnotations(text)
	ids := enc.IDs
	if len(ids) <= maxLen {
		return ids
	}
	special := enc.SpecialTokensMask
	lead, trail := 0, 0
	if len(special) == len(ids) {
		for lead < len(ids) && special[lead] == 1 {
			lead++
		}
		for trail < len(ids)-lead && special[len(ids)-1-trail] == 1 {
			trail++
		}
	}
	if lead+trail >= maxLen {
		// Only special tokens would fit: keep the end.
		return append([]int(nil), ids[len(ids)-maxLen:]...)
	}
	out := make([]int, 0, maxLen)
	out = append(out, ids[:lead]...)
	keep := maxLen - lead - trail
	out = append(out, ids[len(ids)-trail-keep:]...)
	return out
}
