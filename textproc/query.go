package textproc

// QueryTerms analyzes a query for BM25: the index's analysis, without the
// words that only shape a question ("how", "did", "does", "what", pronouns),
// which would otherwise match prose everywhere. A query made only of such
// words keeps them. Every store's text search analyzes queries with it.
func QueryTerms(query string) []string {
	if terms := Content.Terms(query); len(terms) > 0 {
		return terms
	}
	return English.Terms(query)
}
