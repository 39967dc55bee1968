package retrieve

import (
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/distill-rag/distill/config"
)

// syntheticStage builds the mapping {type, split, k} for a retriever that
// another one composes, keeping the outer stage's line for errors.
func syntheticStage(outer config.Stage, typ, split string, k int) *yaml.Node {
	line := outer.Node.Line
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v, Line: line} }
	return &yaml.Node{Kind: yaml.MappingNode, Line: line, Content: []*yaml.Node{
		scalar("type"), scalar(typ),
		scalar("split"), scalar(split),
		scalar("k"), {Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(k), Line: line},
	}}
}
