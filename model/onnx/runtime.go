package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	gomlx "github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/knights-analytics/hugot/backends"
	"github.com/knights-analytics/hugot/options"
)

func init() {
	// simplego runs independent operations of a graph in parallel when
	// one graph executes alone, and that mode races on reused buffers
	// (found by go test -race in gomlx v0.26.0). Sequential operations
	// still spread each matrix product over all cores. hugot asks for the
	// backend as "go", so the constructor under that name is replaced.
	gomlx.Register("go", func(config string) (gomlx.Backend, error) {
		if config == "" {
			return simplego.New("ops_sequential")
		}
		return simplego.New("ops_sequential," + config)
	})
}

// network runs an ONNX encoder with hugot's pure-Go backend (GoMLX's
// simplego, which spreads each operation over all cores). hugot's
// pipelines are not used: they pool by mean only and tokenize pairs by
// joining strings, so tokenization and pooling are done here.
type network struct {
	// mu serializes runs: hugot's CreateInputTensors writes to the shared
	// model on every call (a data race under concurrent Embed calls). Each
	// run's matrix products already use every core.
	mu       sync.Mutex
	model    *backends.Model
	pipeline *backends.BasePipeline
	output   int // index of the output used
}

// Shape buckets bound how many graphs the backend builds and keeps: an
// input is padded to the next bucket, so at most len(batch)*len(seq)
// shapes exist, whatever the traffic.
var (
	batchBuckets    = []int{1, 2, 4, 8, 16, 32, 64}
	sequenceBuckets = []int{16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192}
)

// loadNetwork builds the backend for f's ONNX file. wantOutputs are
// output names to prefer, in order; otherwise the first output is used.
func loadNetwork(f *folder, outputName string, wantOutputs ...string) (n *network, err error) {
	path := filepath.Join(f.dir, filepath.FromSlash(f.onnx))
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FolderError{Dir: f.dir, File: f.onnx, Msg: "cannot read", Err: err}
	}
	if err := checkExternalData(f, data); err != nil {
		return nil, err
	}
	model := &backends.Model{
		ID:           path,
		Path:         filepath.Dir(path), // external weights are found relative to the ONNX file
		OnnxFilename: filepath.Base(path),
		Pipelines:    map[string]backends.Pipeline{},
		OnnxBytes:    data,
	}
	opts := options.Defaults()
	opts.Backend = "GO"
	opts.GoMLXOptions.BatchBuckets = batchBuckets
	opts.GoMLXOptions.SequenceBuckets = sequenceBuckets
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, &FolderError{Dir: f.dir, File: f.onnx, Msg: "cannot load the ONNX graph", Err: fmt.Errorf("%v", r)}
		}
	}()
	if err := backends.CreateModelBackend(model, opts); err != nil {
		return nil, &FolderError{Dir: f.dir, File: f.onnx, Msg: "cannot load the ONNX graph", Err: err}
	}
	model.Destroy = func() error {
		if model.GoMLXModel != nil {
			model.GoMLXModel.Destroy()
			model.GoMLXModel = nil
		}
		return nil
	}
	n = &network{model: model, pipeline: &backends.BasePipeline{Runtime: "GO", Model: model, PipelineName: path}}
	if err := n.check(f, outputName, wantOutputs); err != nil {
		model.Destroy()
		return nil, err
	}
	return n, nil
}

// check makes sure the graph takes inputs this runner can fill and picks
// the output.
func (n *network) check(f *folder, outputName string, want []string) error {
	known := []string{"input_ids", "attention_mask", "token_type_ids"}
	hasIDs := false
	for _, in := range n.model.InputsMeta {
		if !slices.Contains(known, in.Name) {
			return &FolderError{Dir: f.dir, File: f.onnx, Msg: fmt.Sprintf("the graph takes an input %q; distill fills only %s", in.Name, strings.Join(known, ", "))}
		}
		hasIDs = hasIDs || in.Name == "input_ids"
	}
	if !hasIDs {
		return &FolderError{Dir: f.dir, File: f.onnx, Msg: "the graph has no input_ids input; it is not a text encoder"}
	}
	var names []string
	for _, o := range n.model.OutputsMeta {
		names = append(names, o.Name)
	}
	if len(names) == 0 {
		return &FolderError{Dir: f.dir, File: f.onnx, Msg: "the graph has no outputs"}
	}
	if outputName != "" {
		i := slices.Index(names, outputName)
		if i < 0 {
			return &FolderError{Dir: f.dir, File: f.onnx, Msg: fmt.Sprintf("no output %q (outputs: %s)", outputName, strings.Join(names, ", "))}
		}
		n.output = i
		return nil
	}
	for _, w := range want {
		if i := slices.Index(names, w); i >= 0 {
			n.output = i
			return nil
		}
	}
	return nil
}

// outputRank is the number of dimensions of the chosen output.
func (n *network) outputRank() int { return len(n.model.OutputsMeta[n.output].Dimensions) }

// run computes the chosen output for one batch: [][][]float32 (tokens
// of each input, padding left out) for a rank-3 output, [][]float32 for
// rank 2.
func (n *network) run(batch []tokens) (out any, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := backends.NewBatch(len(batch))
	b.Input = make([]backends.TokenizedInput, len(batch))
	for i, t := range batch {
		in := backends.TokenizedInput{
			TokenIDs:          make([]uint32, len(t.ids)),
			TypeIDs:           make([]uint32, len(t.ids)),
			AttentionMask:     make([]uint32, len(t.ids)),
			MaxAttentionIndex: len(t.ids) - 1,
		}
		for j, id := range t.ids {
			in.TokenIDs[j] = uint32(id)
			in.TypeIDs[j] = uint32(t.types[j])
			in.AttentionMask[j] = 1
		}
		b.Input[i] = in
		b.MaxSequenceLength = max(b.MaxSequenceLength, len(t.ids))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx %s: %v", n.model.ID, r)
		}
	}()
	defer b.Destroy()
	if err := backends.CreateInputTensors(b, n.model, "GO"); err != nil {
		return nil, fmt.Errorf("onnx %s: %w", n.model.ID, err)
	}
	if err := backends.RunSessionOnBatch(b, n.pipeline); err != nil {
		return nil, fmt.Errorf("onnx %s: %w", n.model.ID, err)
	}
	return b.OutputValues[n.output], nil
}

// close frees the backend.
func (n *network) close() error { return n.model.Destroy() }
