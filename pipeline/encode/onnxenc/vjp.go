package onnxenc

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// onnx-gomlx converts ONNX Identity nodes (an export's output and tied
// weights go through them) to GoMLX's Identity op, which GoMLX v0.28.8
// cannot differentiate: fine-tuning failed with "no gradient is defined".
// Its gradient is the incoming one; GoMLX's table is open for such additions.
func init() {
	if _, ok := VJPRegistration[NodeTypeIdentity]; !ok {
		VJPRegistration[NodeTypeIdentity] = func(_ *Node, v []*Node, _ shapes.Shape) []*Node { return []*Node{v[0]} }
	}
}
