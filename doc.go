// Package distill is a retrieval-augmented generation engine: it ingests
// documents into a persistent collection and answers questions from them
// with configurable techniques (a retriever and a list of compressors),
// reporting what each technique retrieved and what it cost.
//
// Engine is the one API behind the distill command, its HTTP server and its
// evaluator:
//
//	eng, err := distill.Open(ctx, distill.Options{DB: dir, Create: true})
//	if err != nil { ... }
//	defer eng.Close()
//	report, err := eng.Ingest(ctx, []string{"letters/"}, ingest.Options{})
//	res, err := eng.Ask(ctx, "What were the highlights of 2022?", "parent")
//	fmt.Println(res.Answer)
//
// With no model configured everything runs offline: BM25 retrieval, local
// extractive compression, and extractive answers that cite their sources.
package distill
