// Package yamlstrict decodes YAML declarations strictly: a key the target
// struct does not have is an error naming the key, its line and the keys
// that are known (yaml.v3's Node.Decode alone ignores unknown keys).
package yamlstrict

import (
	"errors"
	"fmt"
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
	if err := n.Decode(v); err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		if strings.HasPrefix(msg, "line ") { // a nested Decode already placed it
			return errors.New(msg)
		}
		return fmt.Errorf("line %d: %s: %s", n.Line, where, msg)
	}
	return nil
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
