package compress

// The default prompts follow the study's LLM extractor and filter: one call
// per retrieved chunk, the question and the chunk in the prompt. A stage's
// prompt or prompt_file replaces them; both are Go templates that must
// show {{.Question}} and {{.Context}}. The context arrives fenced: a notice
// and the chunk between tag lines that the chunk cannot forge (see package
// fence), so a document's text cannot pass for instructions.
const (
	// DefaultExtractPrompt asks for the relevant parts copied as they are,
	// so they can be found in the chunk again, and for NO_OUTPUT when
	// nothing is relevant.
	DefaultExtractPrompt = `Below are a question and a context. Copy out the parts of the context that are relevant to answering the question, exactly as they are written: do not reword, summarize, explain or add anything. If no part of the context is relevant, answer NO_OUTPUT and nothing else.

> Question: {{.Question}}
> Context:
{{.Context}}
Relevant parts, copied as is:`

	// DefaultFilterPrompt asks for a bare YES or NO.
	DefaultFilterPrompt = `Below are a question and a context. Answer YES if the context is relevant to answering the question and NO if it is not. Answer with the single word YES or NO.

> Question: {{.Question}}
> Context:
{{.Context}}
> Relevant (YES / NO):`
)
