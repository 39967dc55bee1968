package server_test

// The tests open collections and models by URI, as the distill command does.
import _ "github.com/distill-rag/distill/all"
