// Package all links every encoder kind: a program that imports it sees all
// of them as values of the "encoder" setting. One blank import per kind.
package all

import (
	_ "github.com/routerdc-go/routerdc/pipeline/encode/onnxenc"
)
