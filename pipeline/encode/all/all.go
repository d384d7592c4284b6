// Package all links every encoder kind that lives in a package of its own,
// so that a program importing it offers them all as values of the
// "encoder" setting (the kinds inside package encode need no import). One
// blank import per kind package.
package all

import (
	_ "github.com/routerdc-go/routerdc/pipeline/encode/onnxenc" // onnx
	_ "github.com/routerdc-go/routerdc/pipeline/encode/uselite" // use-lite, use-lite+ngram
)
