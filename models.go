package distill

// In-process models: "onnx:DIR" and "hf:ORG/NAME" embedders and rerankers.
import _ "github.com/distill-rag/distill/model/hf"
