package onnxgen

import (
	"fmt"
	"math"
)

// builder collects the nodes and constants of a graph.
type builder struct {
	nodes  []node
	consts []initializer
	n      int
}

// op adds a node with one output and returns the output's name.
func (b *builder) op(op string, inputs []string, attrs ...attribute) string {
	b.n++
	out := fmt.Sprintf("/%s_%d_output_0", op, b.n)
	b.nodes = append(b.nodes, node{op: op, name: fmt.Sprintf("/%s_%d", op, b.n), inputs: inputs, outputs: []string{out}, attrs: attrs})
	return out
}

func (b *builder) scalar(v float32) string {
	b.n++
	name := fmt.Sprintf("const_f_%d", b.n)
	b.consts = append(b.consts, initializer{name: name, dims: []int64{}, floats: []float32{v}})
	return name
}

func (b *builder) ints(dims []int64, vs ...int64) string {
	b.n++
	name := fmt.Sprintf("const_i_%d", b.n)
	b.consts = append(b.consts, initializer{name: name, dims: dims, ints: vs})
	return name
}

func (b *builder) vec(vs ...int64) string { return b.ints([]int64{int64(len(vs))}, vs...) }

// layerNorm normalizes over the last axis with weights prefix.weight and
// prefix.bias.
func (m *Model) layerNorm(b *builder, x, prefix string) string {
	if !m.DecomposedLayerNorm {
		return b.op("LayerNormalization", []string{x, prefix + ".weight", prefix + ".bias"}, attrI("axis", -1), attrF("epsilon", 1e-12))
	}
	mean := b.op("ReduceMean", []string{x}, attrIs("axes", -1))
	d := b.op("Sub", []string{x, mean})
	variance := b.op("ReduceMean", []string{b.op("Pow", []string{d, b.scalar(2)})}, attrIs("axes", -1))
	std := b.op("Sqrt", []string{b.op("Add", []string{variance, b.scalar(1e-12)})})
	y := b.op("Div", []string{d, std})
	return b.op("Add", []string{b.op("Mul", []string{y, prefix + ".weight"}), prefix + ".bias"})
}

func (m *Model) linear(b *builder, x, prefix string) string {
	return b.op("Add", []string{b.op("MatMul", []string{x, prefix + ".weight"}), prefix + ".bias"})
}

// encode returns the serialized ModelProto and, with external, the weights
// file it refers to as location.
func (m *Model) encode(external bool, location string) (model, data []byte) {
	b := &builder{}
	h, heads := int64(m.Hidden), int64(m.Heads)
	headDim := h / heads

	// Embeddings: word + position (+ token type), then a layer norm.
	positions := make([]int64, m.MaxPositions)
	for i := range positions {
		positions[i] = int64(i)
	}
	posIDs := b.ints([]int64{int64(m.MaxPositions)}, positions...)
	seqLen := b.op("Slice", []string{b.op("Shape", []string{"input_ids"}), b.vec(1), b.vec(2), b.vec(0)})
	pos := b.op("Gather", []string{"embeddings.position_embeddings.weight", b.op("Slice", []string{posIDs, b.vec(0), seqLen, b.vec(0)})})
	x := b.op("Add", []string{b.op("Gather", []string{"embeddings.word_embeddings.weight", "input_ids"}), pos})
	if !m.NoTokenTypes {
		x = b.op("Add", []string{x, b.op("Gather", []string{"embeddings.token_type_embeddings.weight", "token_type_ids"})})
	}
	x = m.layerNorm(b, x, "embeddings.LayerNorm")

	// Attention bias: 0 where the mask is 1, -10000 on padding.
	mask := b.op("Cast", []string{b.op("Unsqueeze", []string{"attention_mask", b.vec(1, 2)})}, attrI("to", dtFloat))
	bias := b.op("Mul", []string{b.op("Sub", []string{b.scalar(1), mask}), b.scalar(-10000)})

	splitHeads := b.vec(0, 0, heads, headDim)
	mergeHeads := b.vec(0, 0, h)
	scale := b.scalar(float32(math.Sqrt(float64(headDim))))
	for l := range m.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		heads := func(name string, perm ...int64) string {
			t := b.op("Reshape", []string{m.linear(b, x, p+"attention.self."+name), splitHeads})
			return b.op("Transpose", []string{t}, attrIs("perm", perm...))
		}
		q := heads("query", 0, 2, 1, 3)
		k := heads("key", 0, 2, 3, 1)
		v := heads("value", 0, 2, 1, 3)
		scores := b.op("Add", []string{b.op("Div", []string{b.op("MatMul", []string{q, k}), scale}), bias})
		probs := b.op("Softmax", []string{scores}, attrI("axis", -1))
		ctx := b.op("Transpose", []string{b.op("MatMul", []string{probs, v})}, attrIs("perm", 0, 2, 1, 3))
		ctx = b.op("Reshape", []string{ctx, mergeHeads})
		attn := m.linear(b, ctx, p+"attention.output.dense")
		x1 := m.layerNorm(b, b.op("Add", []string{attn, x}), p+"attention.output.LayerNorm")
		f := m.linear(b, x1, p+"intermediate.dense")
		// GELU as exports write it: x * 0.5 * (1 + erf(x / sqrt 2)).
		erf := b.op("Erf", []string{b.op("Div", []string{f, b.scalar(float32(math.Sqrt2))})})
		f = b.op("Mul", []string{b.op("Mul", []string{f, b.scalar(0.5)}), b.op("Add", []string{erf, b.scalar(1)})})
		f = m.linear(b, f, p+"output.dense")
		x = m.layerNorm(b, b.op("Add", []string{f, x1}), p+"output.LayerNorm")
	}

	inputNames := []string{"input_ids", "attention_mask"}
	if !m.NoTokenTypes {
		inputNames = append(inputNames, "token_type_ids")
	}
	var outputs []valueInfo
	if m.CrossEncoder {
		cls := b.op("Gather", []string{x, b.ints([]int64{}, 0)}, attrI("axis", 1))
		pooled := b.op("Tanh", []string{m.linear(b, cls, "pooler.dense")})
		logits := m.linear(b, pooled, "classifier")
		b.nodes = append(b.nodes, node{op: "Identity", name: "/logits", inputs: []string{logits}, outputs: []string{"logits"}})
		outputs = append(outputs, valueInfo{name: "logits", elemType: dtFloat, dims: []int64{0, 1}, params: []string{"batch_size", ""}})
	} else {
		b.nodes = append(b.nodes, node{op: "Identity", name: "/last_hidden_state", inputs: []string{x}, outputs: []string{"last_hidden_state"}})
		outputs = append(outputs, valueInfo{name: "last_hidden_state", elemType: dtFloat, dims: []int64{0, 0, h}, params: []string{"batch_size", "sequence_length", ""}})
	}

	var g msg
	for _, n := range b.nodes {
		g = g.bytes(1, n.encode())
	}
	g = g.str(2, "main_graph")
	for _, name := range m.order {
		p := m.params[name]
		t := initializer{name: name, floats: p.data}
		for _, d := range p.dims {
			t.dims = append(t.dims, int64(d))
		}
		if external {
			raw := t.rawData()
			g = g.bytes(5, t.encodeExternal(location, len(data), len(raw)))
			data = append(data, raw...)
		} else {
			g = g.bytes(5, t.encode())
		}
	}
	for _, c := range b.consts {
		g = g.bytes(5, c.encode())
	}
	for _, name := range inputNames {
		g = g.bytes(11, valueInfo{name: name, elemType: dtInt64, dims: []int64{0, 0}, params: []string{"batch_size", "sequence_length"}}.encode())
	}
	for _, o := range outputs {
		g = g.bytes(12, o.encode())
	}
	opset := msg(nil).str(1, "").varint(2, 17)
	model = msg(nil).varint(1, 8).str(2, "distill-onnxgen").bytes(8, opset).bytes(7, g)
	return model, data
}
