// Command distill ingests documents into a collection and answers questions
// from them with several retrieval techniques, side by side. Run
// `distill demo` for a tour and `distill help` for the commands.
package main

import (
	"os"

	"github.com/distill-rag/distill/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
