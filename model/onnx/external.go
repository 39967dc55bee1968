package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// ExternalDataFiles lists the files an ONNX model keeps its weights in
// (TensorProto.external_data "location"), relative to the ONNX file, so
// that they can be checked before loading and fetched with the model.
// Only the field numbers of onnx.proto are needed, not the whole schema.
func ExternalDataFiles(model []byte) ([]string, error) {
	var locations []string
	err := eachField(model, func(num protowire.Number, v []byte) error {
		if num != 7 { // ModelProto.graph
			return nil
		}
		return eachField(v, func(num protowire.Number, v []byte) error {
			if num != 5 { // GraphProto.initializer
				return nil
			}
			return eachField(v, func(num protowire.Number, v []byte) error {
				if num != 13 { // TensorProto.external_data
					return nil
				}
				var key, value string
				if err := eachField(v, func(num protowire.Number, v []byte) error {
					switch num {
					case 1:
						key = string(v)
					case 2:
						value = string(v)
					}
					return nil
				}); err != nil {
					return err
				}
				if key == "location" && !slices.Contains(locations, value) {
					locations = append(locations, value)
				}
				return nil
			})
		})
	})
	return locations, err
}

// eachField calls fn with the number and contents of each length-delimited
// field of a protobuf message, skipping the others.
func eachField(b []byte, fn func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("not an ONNX model: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return fmt.Errorf("not an ONNX model: %w", protowire.ParseError(m))
			}
			if err := fn(num, v); err != nil {
				return err
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return fmt.Errorf("not an ONNX model: %w", protowire.ParseError(m))
		}
		b = b[m:]
	}
	return nil
}

// checkExternalData makes sure the weights files the model refers to are
// inside the folder and present.
func checkExternalData(f *folder, model []byte) error {
	locations, err := ExternalDataFiles(model)
	if err != nil {
		return &FolderError{Dir: f.dir, File: f.onnx, Msg: "cannot read the ONNX file", Err: err}
	}
	base := filepath.Dir(f.onnx)
	for _, loc := range locations {
		if err := SafeRelative(loc); err != nil {
			return &FolderError{Dir: f.dir, File: f.onnx, Msg: fmt.Sprintf("external weights location %q: %v", loc, err)}
		}
		rel := filepath.ToSlash(filepath.Join(base, loc))
		if _, err := os.Stat(filepath.Join(f.dir, filepath.FromSlash(rel))); err != nil {
			return &FolderError{Dir: f.dir, File: rel, Msg: "missing; the ONNX file keeps its weights there", Err: err}
		}
	}
	return nil
}

// SafeRelative accepts a relative slash-separated path that stays inside
// its folder.
func SafeRelative(p string) error {
	clean := filepath.ToSlash(filepath.Clean(filepath.FromSlash(p)))
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "/") || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(p, "\\") {
		return fmt.Errorf("must be a path inside the model folder")
	}
	return nil
}
