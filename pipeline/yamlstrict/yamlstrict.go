// Package yamlstrict decodes YAML declarations strictly: a key the target
// struct does not have is an error naming the key, its line and the keys
// that are known (yaml.v3's Node.Decode alone ignores unknown keys).
package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode decodes a mapping node into v (a struct pointer). where names the
// node in errors, e.g. "methods[]". Nested structs that should be strict too
// implement yaml.Unmarshaler with Decode.
func Decode(n *yaml.Node, where string, v any) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: want a mapping of keys", n.Line, where)
	}
	known := Keys(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i]
		if !slices.Contains(known, key.Value) {
			return fmt.Errorf("line %d: %s: unknown key %q (known: %s)", key.Line, where, key.Value, strings.Join(known, ", "))
		}
	}
	if err := checkIntegers(n, reflect.TypeOf(v).Elem(), where, ""); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		if strings.HasPrefix(msg, "line ") { // a nested Decode already placed it
			return errors.New(msg)
		}
		return fmt.Errorf("line %d: %s: %s", n.Line, where, msg)
	}
	return nil
}

var unmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// checkIntegers refuses a float where t wants an integer: yaml.v3 would
// truncate 1.5 to 1 without a word. path is the key path inside where.
func checkIntegers(n *yaml.Node, t reflect.Type, where, path string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			return fmt.Errorf("line %d: %s: %s: %s is not an integer", n.Line, where, path, n.Value)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if err := checkIntegers(c, t.Elem(), where, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := checkIntegers(n.Content[i+1], t.Elem(), where, join(path, n.Content[i].Value)); err != nil {
					return err
				}
			}
		}
	case reflect.Struct:
		// A struct with its own UnmarshalYAML calls Decode, which checks it.
		if n.Kind != yaml.MappingNode || (path != "" && reflect.PointerTo(t).Implements(unmarshaler)) {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			for f := range t.Fields() {
				if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
					if err := checkIntegers(n.Content[i+1], f.Type, where, join(path, key)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Keys lists the yaml field names of a struct pointer.
func Keys(v any) []string {
	t := reflect.TypeOf(v).Elem()
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// Document parses a declaration file's one YAML document and returns its
// top-level mapping and each top-level key's line. Errors name the file:
// a YAML syntax error, an empty file, a second document.
func Document(file string, b []byte) (*yaml.Node, map[string]int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%s: empty declaration", file)
		}
		return nil, nil, fmt.Errorf("%s: %v", file, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: line %d: a second YAML document; one declaration per file", file, extra.Line)
	}
	if len(root.Content) != 1 {
		return nil, nil, fmt.Errorf("%s: empty declaration", file)
	}
	doc := root.Content[0]
	lines := map[string]int{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		lines[doc.Content[i].Value] = doc.Content[i].Line
	}
	return doc, lines, nil
}

// Kind is a declaration's "kind" key ("" when the text is not YAML or has
// none), so that a command given several declarations can sort them.
func Kind(b []byte) string {
	var head struct {
		Kind string `yaml:"kind"`
	}
	if yaml.Unmarshal(b, &head) != nil {
		return ""
	}
	return head.Kind
}
