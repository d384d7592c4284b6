package main

import (
	"encoding/json"
	"math"
	"strconv"
)

// routeJSON writes route's JSON lines. They are the bytes json.Marshal
// gives for {"query", "llm", "probabilities": orderedKV}; built by hand
// because reflection, the Marshaler's output being compacted again, and
// marshalling every LLM name for every query cost more than the rest of
// writing an answer.
type routeJSON struct {
	llms [][]byte // each LLM name as a JSON string
}

func newRouteJSON(llms []string) routeJSON {
	j := routeJSON{llms: make([][]byte, len(llms))}
	for t, name := range llms {
		j.llms[t], _ = json.Marshal(name)
	}
	return j
}

// appendLine appends one answer and a newline: the query, the chosen LLM
// (an index into the LLMs) and the probabilities, rounded, in the LLMs'
// order.
func (j routeJSON) appendLine(dst []byte, query string, best int, probs []kv) []byte {
	for _, e := range probs {
		if math.IsNaN(e.V) || math.IsInf(e.V, 0) {
			// json.Marshal fails on these and route wrote an empty
			// line; it still does.
			return append(dst, '\n')
		}
	}
	q, _ := json.Marshal(query) // a string always marshals
	dst = append(dst, `{"query":`...)
	dst = append(dst, q...)
	dst = append(dst, `,"llm":`...)
	dst = append(dst, j.llms[best]...)
	dst = append(dst, `,"probabilities":{`...)
	for t, e := range probs {
		if t > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, j.llms[t]...)
		dst = append(dst, ':')
		dst = appendJSONFloat(dst, e.V)
	}
	return append(dst, "}}\n"...)
}

// appendJSONFloat formats a finite f as encoding/json does: the shortest
// decimal that reads back as f, with an exponent only below 1e-6 or from
// 1e21 up, and a one-digit negative exponent without its leading zero.
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if n := len(dst); format == 'e' && n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst
}
