//go:build !lite

package all

import (
	_ "github.com/distill-rag/distill/model/bedrock"   // bedrock:MODEL_ID
	_ "github.com/distill-rag/distill/model/hf"        // hf:ORG/NAME and onnx:DIR, in-process
	_ "github.com/distill-rag/distill/model/sagemaker" // sagemaker:ENDPOINT
	_ "github.com/distill-rag/distill/store/weaviate"  // weaviate: store URIs
)

const lite = false
