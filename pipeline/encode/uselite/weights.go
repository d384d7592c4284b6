package uselite

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Weight is one tensor of a TF.js weights manifest.
type Weight struct {
	Name  string
	Shape []int
	DType string // "float32" or "int32"
	F32   []float32
	I32   []int32
}

// Size is the number of elements.
func (w *Weight) Size() int {
	n := 1
	for _, d := range w.Shape {
		n *= d
	}
	return n
}

// manifest is the part of a TF.js model.json that says where the weights
// are: groups of shard files which, concatenated, hold the weights in
// order.
type manifest struct {
	WeightsManifest []struct {
		Paths   []string `json:"paths"`
		Weights []struct {
			Name         string          `json:"name"`
			Shape        []int           `json:"shape"`
			DType        string          `json:"dtype"`
			Quantization json.RawMessage `json:"quantization"`
		} `json:"weights"`
	} `json:"weightsManifest"`
}

// ReadWeights reads every weight a TF.js model.json lists, from the shard
// files beside it.
func ReadWeights(modelJSON string) (map[string]*Weight, error) {
	data, err := os.ReadFile(modelJSON)
	if err != nil {
		return nil, missing(modelJSON, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("uselite: %s: %w", modelJSON, err)
	}
	if len(m.WeightsManifest) == 0 {
		return nil, fmt.Errorf("uselite: %s: no weightsManifest", modelJSON)
	}
	dir := filepath.Dir(modelJSON)
	// The whole manifest is checked before any shard is read, so that a
	// bad entry is reported as itself, not as a missing file.
	wantBytes := make([]int, len(m.WeightsManifest))
	for g, group := range m.WeightsManifest {
		if len(group.Paths) == 0 {
			return nil, fmt.Errorf("uselite: %s: weightsManifest[%d] lists no shard files", modelJSON, g)
		}
		for _, p := range group.Paths {
			if p == "" || filepath.IsAbs(p) || strings.Contains(p, "..") {
				return nil, fmt.Errorf("uselite: %s: weightsManifest[%d]: shard path %q is not a plain file name", modelJSON, g, p)
			}
		}
		for i, w := range group.Weights {
			if len(w.Quantization) > 0 && string(w.Quantization) != "null" {
				return nil, fmt.Errorf("uselite: %s: weight %d (%s) is quantized, which is not supported", modelJSON, i, w.Name)
			}
			if w.DType != "float32" && w.DType != "int32" {
				return nil, fmt.Errorf("uselite: %s: weight %d (%s): dtype %q, want float32 or int32", modelJSON, i, w.Name, w.DType)
			}
			n := 1
			for _, d := range w.Shape {
				if d < 0 {
					return nil, fmt.Errorf("uselite: %s: weight %d (%s): negative dimension in shape %v", modelJSON, i, w.Name, w.Shape)
				}
				n *= d
			}
			wantBytes[g] += 4 * n
		}
	}
	out := map[string]*Weight{}
	for g, group := range m.WeightsManifest {
		var buf []byte
		for _, p := range group.Paths {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				return nil, missing(filepath.Join(dir, p), err)
			}
			buf = append(buf, b...)
		}
		if len(buf) != wantBytes[g] {
			return nil, fmt.Errorf("uselite: %s: the shards of weightsManifest[%d] (%s) hold %d bytes, the weights listed need %d",
				modelJSON, g, strings.Join(group.Paths, ", "), len(buf), wantBytes[g])
		}
		off := 0
		for _, w := range group.Weights {
			t := &Weight{Name: w.Name, Shape: w.Shape, DType: w.DType}
			n := t.Size()
			if t.DType == "float32" {
				t.F32 = make([]float32, n)
				for i := range t.F32 {
					t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[off+4*i:]))
				}
			} else {
				t.I32 = make([]int32, n)
				for i := range t.I32 {
					t.I32[i] = int32(binary.LittleEndian.Uint32(buf[off+4*i:]))
				}
			}
			off += 4 * n
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("uselite: %s: weight %s listed twice", modelJSON, w.Name)
			}
			out[w.Name] = t
		}
	}
	return out, nil
}

// missing wraps a read error; a file that is not there gets the fix.
func missing(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("uselite: %s is missing: run `just encoders` (or `routerdc data --encoders`) to fetch the USE-lite model", path)
	}
	return fmt.Errorf("uselite: %w", err)
}
