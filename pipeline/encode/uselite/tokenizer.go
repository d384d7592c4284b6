package uselite

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer splits text into the model's SentencePiece ids exactly as the
// package's JavaScript tokenizer (@energetic-ai/embeddings 0.2.0, the one
// of TF.js's universal-sentence-encoder) does, quirks included: the model
// was only ever run behind that code, so its ids, not SentencePiece's own
// algorithm, are what the weights expect.
type Tokenizer struct {
	pieces []vocabPiece
	root   *trieNode
}

type vocabPiece struct {
	text  string
	score float64
	// utf16Len is the piece's length as JavaScript counts it; the JS
	// tokenizer steps back by it when it reads the best path.
	utf16Len int
}

type trieNode struct {
	children map[rune]*trieNode
	end      bool
	runes    int // length of the piece ending here, in code points
	score    float64
	id       int
}

// reservedPieces are the vocabulary's first entries (unknown, <s>, </s>,
// three extras) that the tokenizer never matches.
const reservedPieces = 6

// unknownID is the id of a character no piece starts with.
const unknownID = 0

// separator replaces spaces and starts every non-empty text.
const separator = "\u2581"

// LoadTokenizer reads the package's vocab.json: an array of [piece, score]
// pairs whose index is the id. A null score (the file has them for pieces
// with a ":") counts as 0, as JavaScript's null + number does.
func LoadTokenizer(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, missing(path, err)
	}
	var raw [][]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("uselite: %s: want a JSON array of [piece, score] pairs: %w", path, err)
	}
	if len(raw) <= reservedPieces {
		return nil, fmt.Errorf("uselite: %s: %d entries, want more than the %d reserved ones", path, len(raw), reservedPieces)
	}
	pieces := make([]vocabPiece, len(raw))
	for i, e := range raw {
		if len(e) != 2 {
			return nil, fmt.Errorf("uselite: %s: entry %d has %d elements, want [piece, score]", path, i, len(e))
		}
		var p vocabPiece
		var score *float64
		if err := json.Unmarshal(e[0], &p.text); err != nil {
			return nil, fmt.Errorf("uselite: %s: entry %d: piece: %w", path, i, err)
		}
		if err := json.Unmarshal(e[1], &score); err != nil {
			return nil, fmt.Errorf("uselite: %s: entry %d (%q): score: %w", path, i, p.text, err)
		}
		if p.text == "" {
			return nil, fmt.Errorf("uselite: %s: entry %d: empty piece", path, i)
		}
		if score != nil {
			p.score = *score
		}
		p.utf16Len = len(utf16.Encode([]rune(p.text)))
		pieces[i] = p
	}
	return newTokenizer(pieces), nil
}

func newTokenizer(pieces []vocabPiece) *Tokenizer {
	t := &Tokenizer{pieces: pieces, root: &trieNode{}}
	for id := reservedPieces; id < len(pieces); id++ {
		node := t.root
		runes := []rune(pieces[id].text)
		for _, r := range runes {
			next := node.children[r]
			if next == nil {
				if node.children == nil {
					node.children = map[rune]*trieNode{}
				}
				next = &trieNode{}
				node.children[r] = next
			}
			node = next
		}
		// A piece listed twice keeps its last id and score, as the JS
		// trie's insert overwrites.
		node.end, node.runes, node.score, node.id = true, len(runes), pieces[id].score, id
	}
	return t
}

// VocabSize is the number of pieces.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Encode returns the ids of text. The JS algorithm: NFKC, spaces to "▁"
// and a leading "▁"; every piece starting at each position (or the
// unknown id for one character when none does); a best-score pass whose
// "unset" marker is a score of exactly 0 and which lets a later equal
// score win; the path read back from the end; runs of unknown ids merged.
func (t *Tokenizer) Encode(text string) []int {
	text = norm.NFKC.String(text)
	if text == "" {
		return nil
	}
	symbols := []rune(separator + strings.ReplaceAll(text, " ", separator))
	n := len(symbols)

	type arc struct {
		start int
		score float64
		id    int
		runes int
	}
	// arcs[e] lists the pieces ending at e by ascending start, the order
	// in which the JS loop visits them.
	arcs := make([][]arc, n+1)
	for i := 0; i < n; i++ {
		found := false
		for node, k := t.root.children[symbols[i]], i; node != nil; {
			if node.end {
				arcs[i+node.runes] = append(arcs[i+node.runes], arc{i, node.score, node.id, node.runes})
				found = true
			}
			k++
			if k >= n {
				break
			}
			node = node.children[symbols[k]]
		}
		if !found {
			arcs[i+1] = append(arcs[i+1], arc{i, 0, unknownID, 1})
		}
	}
	best := make([]float64, n+1)
	words := make([]int, n+1)
	for e := 0; e <= n; e++ {
		for _, a := range arcs[e] {
			s := a.score + best[e-a.runes]
			if best[e] == 0 || s >= best[e] {
				best[e] = s
				words[e] = a.id
			}
		}
	}
	var rev []int
	for i := n; i > 0; i -= t.pieces[words[i]].utf16Len {
		rev = append(rev, words[i])
	}
	ids := make([]int, 0, len(rev))
	prevUnknown := false
	for _, id := range rev {
		if !(prevUnknown && id == unknownID) {
			ids = append(ids, id)
		}
		prevUnknown = id == unknownID
	}
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids
}
