package model

import (
	"sort"
	"strings"
)

// A ChatTemplate renders a chat as the raw text an instruction-tuned model
// was trained on, for endpoints that take a prompt string (TGI, SageMaker
// JumpStart) rather than messages.
type ChatTemplate func(msgs []Message) string

var templates = map[string]ChatTemplate{
	"mistral": mistralTemplate,
	"llama2":  llama2Template,
	"llama3":  llama3Template,
	"chatml":  chatMLTemplate,
	"raw":     rawTemplate,
}

// TemplateNames lists the chat templates distill knows.
func TemplateNames() []string {
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Template returns the named chat template, or, when name is empty, the one
// for the model family that modelName suggests; Mixtral's (the study's
// model) when nothing matches.
func Template(name, modelName string) ChatTemplate {
	if t, ok := templates[name]; ok {
		return t
	}
	return templates[TemplateFor(modelName)]
}

// TemplateFor names the chat template a model's name suggests.
func TemplateFor(modelName string) string {
	n := strings.ToLower(modelName)
	switch {
	case strings.Contains(n, "llama-3") || strings.Contains(n, "llama3"):
		return "llama3"
	case strings.Contains(n, "llama-2") || strings.Contains(n, "llama2"):
		return "llama2"
	case strings.Contains(n, "qwen") || strings.Contains(n, "chatml") || strings.Contains(n, "hermes"):
		return "chatml"
	}
	return "mistral"
}

// split separates the system text from the conversation turns.
func split(msgs []Message) (system string, turns []Message) {
	var sys []string
	for _, m := range msgs {
		if m.Role == "system" {
			sys = append(sys, m.Content)
			continue
		}
		turns = append(turns, m)
	}
	return strings.Join(sys, "\n\n"), turns
}

// mistralTemplate is Mistral's and Mixtral's instruction format:
// "<s>[INST] user [/INST] answer</s>[INST] next [/INST]". The model has no
// system role, so system text opens the first instruction. Each [INST] is
// closed by [/INST] (the study's prompt left it open, which makes the model
// continue the instruction instead of answering it).
func mistralTemplate(msgs []Message) string {
	system, turns := split(msgs)
	var b strings.Builder
	b.WriteString("<s>")
	first := true
	for _, m := range turns {
		switch m.Role {
		case "assistant":
			b.WriteString(" " + strings.TrimSpace(m.Content) + "</s>")
		default:
			content := strings.TrimSpace(m.Content)
			if first && system != "" {
				content = strings.TrimSpace(system) + "\n\n" + content
			}
			first = false
			b.WriteString("[INST] " + content + " [/INST]")
		}
	}
	return b.String()
}

func llama2Template(msgs []Message) string {
	system, turns := split(msgs)
	var b strings.Builder
	first := true
	for _, m := range turns {
		switch m.Role {
		case "assistant":
			b.WriteString(" " + strings.TrimSpace(m.Content) + " </s>")
		default:
			content := strings.TrimSpace(m.Content)
			if first && system != "" {
				content = "<<SYS>>\n" + strings.TrimSpace(system) + "\n<</SYS>>\n\n" + content
			}
			first = false
			b.WriteString("<s>[INST] " + content + " [/INST]")
		}
	}
	return b.String()
}

func llama3Template(msgs []Message) string {
	var b strings.Builder
	b.WriteString("<|begin_of_text|>")
	for _, m := range msgs {
		b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + strings.TrimSpace(m.Content) + "<|eot_id|>")
	}
	b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	return b.String()
}

func chatMLTemplate(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|im_start|>" + m.Role + "\n" + strings.TrimSpace(m.Content) + "<|im_end|>\n")
	}
	b.WriteString("<|im_start|>assistant\n")
	return b.String()
}

// rawTemplate joins the messages' text, for base models and endpoints that
// apply their own template.
func rawTemplate(msgs []Message) string {
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n\n")
}

// TemplateStop are the end-of-turn markers of each template, for endpoints
// that do not stop on them by themselves.
func TemplateStop(name string) []string {
	switch name {
	case "llama3":
		return []string{"<|eot_id|>"}
	case "chatml":
		return []string{"<|im_end|>"}
	}
	return nil
}
