package onnxenc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The files of a model directory, as a Hugging Face ONNX export writes them.
const (
	ModelFile     = "model.onnx"
	TokenizerFile = "tokenizer.json"
	ConfigFile    = "config.json"
)

// ExternalDataFile is where an export of over 2 GB keeps its weights.
const ExternalDataFile = "model.onnx_data"

// hashedFiles are the files whose content identifies the encoder, in the
// order they are hashed (the last one only where it exists).
var hashedFiles = []string{ModelFile, TokenizerFile, ConfigFile, ExternalDataFile}

// requiredFiles are the ones every model directory holds.
var requiredFiles = hashedFiles[:3]

// checkDir reports what is missing from a model directory, naming it.
func checkDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("setting %s is empty: name a directory holding %s, %s and %s (see the README: exporting an encoder to ONNX)",
			ParamPath, ModelFile, TokenizerFile, ConfigFile)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("setting %s=%s: %w", ParamPath, dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("setting %s=%s: not a directory (want the directory holding %s, %s and %s)",
			ParamPath, dir, ModelFile, TokenizerFile, ConfigFile)
	}
	for _, f := range requiredFiles {
		p := filepath.Join(dir, f)
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("encoder directory %s: %w", dir, err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("encoder directory %s: %s is not a regular file", dir, p)
		}
	}
	return nil
}

// hashKey is what a cached hash is valid for: a file set changes its size
// or modification time when rewritten.
type hashKey struct {
	dir   string
	sizes [4]int64 // -1: absent
	mtime [4]time.Time
}

var (
	hashMu    sync.Mutex
	hashCache = map[hashKey]string{}
)

// sourceHash is the SHA256 over the directory's model, tokenizer and
// config, each preceded by its name and length so no two file sets share
// a stream. A model of a gigabyte takes seconds to hash: the hash is
// remembered while the files keep their size and modification time.
func sourceHash(dir string) (string, error) {
	if err := checkDir(dir); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	key := hashKey{dir: abs}
	for i, f := range hashedFiles {
		st, err := os.Stat(filepath.Join(abs, f))
		if errors.Is(err, os.ErrNotExist) && f == ExternalDataFile {
			key.sizes[i] = -1
			continue
		}
		if err != nil {
			return "", err
		}
		key.sizes[i], key.mtime[i] = st.Size(), st.ModTime()
	}
	hashMu.Lock()
	h, ok := hashCache[key]
	hashMu.Unlock()
	if ok {
		return h, nil
	}
	sum := sha256.New()
	for i, f := range hashedFiles {
		if key.sizes[i] < 0 {
			continue
		}
		p := filepath.Join(abs, f)
		fh, err := os.Open(p)
		if err != nil {
			return "", err
		}
		st, err := fh.Stat()
		if err == nil {
			fmt.Fprintf(sum, "%s\x00%d\x00", f, st.Size())
			_, err = io.Copy(sum, fh)
		}
		fh.Close()
		if err != nil {
			return "", fmt.Errorf("hashing %s: %w", p, err)
		}
	}
	h = hex.EncodeToString(sum.Sum(nil))
	hashMu.Lock()
	hashCache[key] = h
	hashMu.Unlock()
	return h, nil
}

// modelConfig is what we read from config.json: the position limit bounds
// the sequence length (a BERT indexes a table of that many positions).
type modelConfig struct {
	ModelType    string `json:"model_type"`
	HiddenSize   int    `json:"hidden_size"`
	MaxPositions int    `json:"max_position_embeddings"`
}

func readConfig(dir string) (modelConfig, error) {
	p := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return modelConfig{}, err
	}
	var c modelConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", p, err)
	}
	if c.HiddenSize < 0 || c.MaxPositions < 0 {
		return c, fmt.Errorf("%s: negative hidden_size or max_position_embeddings", p)
	}
	return c, nil
}

var errNoOutput = errors.New("no float output of rank 3 ([batch, sequence, hidden])")
