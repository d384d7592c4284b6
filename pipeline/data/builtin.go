package data

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
)

// BuiltinName is the released split's dataset name, the default of a
// declaration's data: key.
const BuiltinName = "routerdc-split2"

//go:embed routerdc-split2.yaml
var builtinYAML []byte

// BuiltinDecl is the released split's declaration, its paths under dataDir.
func BuiltinDecl(dataDir string) *Decl {
	d, err := parseDecl("pipeline/data/"+BuiltinName+".yaml", builtinYAML)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	d.Dir, d.builtin = dataDir, true
	return d
}

// Builtin loads the released split from dataDir, after checking every
// released file against its SHA256.
func Builtin(dataDir string) (*Collection, error) {
	return BuiltinDecl(dataDir).Load(nil)
}

// IsBuiltin says whether d is the released split's declaration.
func (d *Decl) IsBuiltin() bool { return d.builtin }

// ResolveDecl finds the dataset that a declaration's data: key names: ""
// or BuiltinName is the released split (paths under dataDir); else the
// name of a dataset declaration given alongside (given); else a path to a
// declaration file, relative to baseDir (the declaring file's directory).
func ResolveDecl(ref, baseDir, dataDir string, given []*Decl) (*Decl, error) {
	if ref == "" || ref == BuiltinName {
		return BuiltinDecl(dataDir), nil
	}
	var found *Decl
	var names []string
	for _, d := range given {
		names = append(names, d.Name)
		if d.Name != ref {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("data %q: two dataset declarations have that name: %s and %s", ref, found.File, d.File)
		}
		found = d
	}
	if found != nil {
		return found, nil
	}
	p := filepath.FromSlash(ref)
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	d, err := LoadDecl(p)
	if errors.Is(err, fs.ErrNotExist) {
		given := "none given"
		if len(names) > 0 {
			given = strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("data %q: not the built-in dataset %s, not a dataset declaration given alongside (%s), and no file %s",
			ref, BuiltinName, given, p)
	}
	if err != nil {
		return nil, fmt.Errorf("data %q: %w", ref, err)
	}
	return d, nil
}

// Resolve is ResolveDecl, then Load.
func Resolve(ref, baseDir, dataDir string, given []*Decl, progress io.Writer) (*Collection, error) {
	d, err := ResolveDecl(ref, baseDir, dataDir, given)
	if err != nil {
		return nil, err
	}
	return d.Load(progress)
}

// checkBuiltin is the released split's SHA256 check, which other datasets
// do not have: the paper's numbers hold for those exact bytes.
func (d *Decl) checkBuiltin() error {
	if !d.builtin {
		return nil
	}
	return CheckDir(d.Dir)
}
