// Command install builds the weaviate-server the integration tests run
// (weaviatetest.Version) into its cache directory, so that CI pays for the
// build before the tests start rather than inside a test's timeout.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/distill-rag/distill/internal/testsupport/weaviatetest"
)

func main() {
	bin, err := weaviatetest.Install(context.Background(), func(s string) { fmt.Fprintln(os.Stderr, s) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "install weaviate-server:", err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
