package onnxgen

import (
	"encoding/binary"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX messages are written with protowire and the field numbers of
// onnx.proto (IR version 8), so that the generator shares no code with the
// runtime that reads the files.

// ONNX TensorProto.DataType values.
const (
	dtFloat = 1
	dtInt64 = 7
)

// ONNX AttributeProto.AttributeType values.
const (
	attrFloat = 1
	attrInt   = 2
	attrInts  = 7
)

type msg []byte

func (m msg) varint(field protowire.Number, v uint64) msg {
	m = protowire.AppendTag(m, field, protowire.VarintType)
	return protowire.AppendVarint(m, v)
}

func (m msg) bytes(field protowire.Number, b []byte) msg {
	m = protowire.AppendTag(m, field, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) str(field protowire.Number, s string) msg { return m.bytes(field, []byte(s)) }

func (m msg) fixed32(field protowire.Number, v uint32) msg {
	m = protowire.AppendTag(m, field, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, v)
}

func (m msg) packedInt64(field protowire.Number, vs []int64) msg {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, uint64(v))
	}
	return m.bytes(field, p)
}

// attribute is an AttributeProto.
type attribute struct {
	name string
	kind int
	f    float32
	i    int64
	ints []int64
}

func attrF(name string, f float32) attribute { return attribute{name: name, kind: attrFloat, f: f} }
func attrI(name string, i int64) attribute   { return attribute{name: name, kind: attrInt, i: i} }
func attrIs(name string, is ...int64) attribute {
	return attribute{name: name, kind: attrInts, ints: is}
}

func (a attribute) encode() msg {
	m := msg(nil).str(1, a.name)
	switch a.kind {
	case attrFloat:
		m = m.fixed32(2, math.Float32bits(a.f))
	case attrInt:
		m = m.varint(3, uint64(a.i))
	case attrInts:
		m = m.packedInt64(8, a.ints)
	}
	return m.varint(20, uint64(a.kind))
}

// node is a NodeProto.
type node struct {
	op      string
	name    string
	inputs  []string
	outputs []string
	attrs   []attribute
}

func (n node) encode() msg {
	var m msg
	for _, in := range n.inputs {
		m = m.str(1, in)
	}
	for _, out := range n.outputs {
		m = m.str(2, out)
	}
	m = m.str(3, n.name).str(4, n.op)
	for _, a := range n.attrs {
		m = m.bytes(5, a.encode())
	}
	return m
}

// initializer is a TensorProto holding a weight or a constant.
type initializer struct {
	name   string
	dims   []int64
	floats []float32 // data type FLOAT, or
	ints   []int64   // data type INT64
}

func (t initializer) rawData() []byte {
	if t.ints != nil {
		b := make([]byte, 8*len(t.ints))
		for i, v := range t.ints {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		return b
	}
	b := make([]byte, 4*len(t.floats))
	for i, v := range t.floats {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func (t initializer) dataType() uint64 {
	if t.ints != nil {
		return dtInt64
	}
	return dtFloat
}

// encode writes the tensor with its data inline (raw_data).
func (t initializer) encode() msg {
	m := msg(nil).packedInt64(1, t.dims).varint(2, t.dataType()).str(8, t.name)
	return m.bytes(9, t.rawData())
}

// encodeExternal writes the tensor as a reference to location at offset.
func (t initializer) encodeExternal(location string, offset, length int) msg {
	m := msg(nil).packedInt64(1, t.dims).varint(2, t.dataType()).str(8, t.name)
	for _, kv := range [][2]string{{"location", location}, {"offset", strconv.Itoa(offset)}, {"length", strconv.Itoa(length)}} {
		m = m.bytes(13, msg(nil).str(1, kv[0]).str(2, kv[1]))
	}
	return m.varint(14, 1) // data_location = EXTERNAL
}

// valueInfo is a ValueInfoProto for a graph input or output; a dimension
// of 0 or less is symbolic and named by the matching entry of params.
type valueInfo struct {
	name     string
	elemType uint64
	dims     []int64
	params   []string
}

func (v valueInfo) encode() msg {
	var shape msg
	for i, d := range v.dims {
		var dim msg
		if d > 0 {
			dim = dim.varint(1, uint64(d))
		} else {
			dim = dim.str(2, v.params[i])
		}
		shape = shape.bytes(1, dim)
	}
	tensorType := msg(nil).varint(1, v.elemType).bytes(2, shape)
	typ := msg(nil).bytes(1, tensorType)
	return msg(nil).str(1, v.name).bytes(2, typ)
}
