// Package all registers every store and model provider that distill ships,
// for programs that want them all (the distill command does). A program
// that embeds the engine imports only the drivers it uses instead, the way
// a database/sql program imports its one driver:
//
//	import (
//		"github.com/distill-rag/distill"
//		_ "github.com/distill-rag/distill/store/sqlite"
//		_ "github.com/distill-rag/distill/model/ollama"
//	)
//
// Built with -tags lite, the heavy backends (AWS: SageMaker and Bedrock;
// in-process ONNX and Hugging Face models; Weaviate) are left out, and
// their URI schemes fail with an error that names the tag.
package all

import (
	_ "github.com/distill-rag/distill/model/hashembed" // hash:DIM, the toy embedding model
	_ "github.com/distill-rag/distill/model/ollama"    // ollama:MODEL
	_ "github.com/distill-rag/distill/model/openai"    // openai:MODEL
	_ "github.com/distill-rag/distill/model/rerank"    // tei:, cohere:, jina:, vllm: rerankers
	_ "github.com/distill-rag/distill/model/tei"       // tei:URL embedders
	_ "github.com/distill-rag/distill/store/sqlite"    // the embedded store
)

// Lite reports whether this build leaves out the heavy backends
// (-tags lite).
func Lite() bool { return lite }
