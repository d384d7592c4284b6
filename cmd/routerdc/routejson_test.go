package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// orderedKV is how route wrote the probabilities before routeJSON: the
// reference its lines must match.
type orderedKV []kv

func (o orderedKV) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.K)
		v, _ := json.Marshal(e.V)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func marshalRouteLine(query, llm string, probs []kv) []byte {
	b, _ := json.Marshal(struct {
		Query string    `json:"query"`
		LLM   string    `json:"llm"`
		Probs orderedKV `json:"probabilities"`
	}{query, llm, probs})
	return append(b, '\n')
}

// TestRouteJSONMatchesMarshal: routeJSON writes the bytes json.Marshal
// wrote, for queries with every kind of character JSON escapes (HTML,
// control characters, U+2028, invalid UTF-8) and probabilities from 0 to
// the corners of the float format (and the empty line of a NaN).
func TestRouteJSONMatchesMarshal(t *testing.T) {
	llms := []string{"mistralai/Mistral-7B-v0.1", `we<ird>&"name"`, "\u2028é中"}
	pieces := []string{"a", "Z", " ", "\"", "\\", "/", "<", ">", "&", "\t", "\x00", "\x1f", "\x7f",
		"\u2028", "\u2029", "é", "中", "🙂", "\xff", "\xed\xa0\x80", "\ufffd", "'", "\u00a0"}
	values := []float64{0, 1, 0.5, 1e-6, 5e-7, 1e-7, 1.5e-10, 1e20, 1e21, 1.234e25, 123456789, 0.000123,
		math.Copysign(0, -1), math.NaN(), math.Inf(1)}
	j := newRouteJSON(llms)
	rng := rand.New(rand.NewPCG(14, 2))
	var line []byte
	for i := range 5000 {
		var q strings.Builder
		for n := rng.IntN(12); n > 0; n-- {
			q.WriteString(pieces[rng.IntN(len(pieces))])
		}
		probs := make([]kv, len(llms))
		for k := range probs {
			v := round(rng.Float64(), 6)
			if i%3 == 0 {
				v = values[rng.IntN(len(values))]
			}
			probs[k] = kv{llms[k], v}
		}
		best := rng.IntN(len(llms))
		want := marshalRouteLine(q.String(), llms[best], probs)
		line = j.appendLine(line[:0], q.String(), best, probs)
		if string(line) != string(want) {
			t.Fatalf("query %q, probabilities %v:\n got %s\nwant %s", q.String(), probs, line, want)
		}
	}
}
