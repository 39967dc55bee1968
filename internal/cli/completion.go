package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

// Dynamic completion: the shell asks the binary (cobra's __complete), which
// answers from the configuration and the collection named by the flags
// typed so far. Errors complete nothing rather than print.

// completeTechnique offers the configured techniques, with their
// descriptions for shells that show them.
func (a *app) completeTechnique(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.techniqueNames(cmd, "", toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeTechniqueList completes the last name of a comma-separated list.
func (a *app) completeTechniqueList(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	return a.techniqueNames(cmd, done, last), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

func (a *app) techniqueNames(cmd *cobra.Command, prefix, toComplete string) []string {
	ts, err := distill.ListTechniques(cmd.Context(), distill.Options{DB: a.db, Store: a.store, ConfigFile: a.configFile, Models: a.models})
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range ts {
		if !strings.HasPrefix(t.Name, toComplete) || strings.Contains(prefix, t.Name+",") {
			continue
		}
		desc := t.Description
		if t.Unavailable != "" {
			desc = "(unavailable) " + desc
		}
		out = append(out, prefix+t.Name+"\t"+desc)
	}
	return out
}

// completeSources offers the stored documents' sources (rm removes only
// what is stored, so files on disk are not offered).
func (a *app) completeSources(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx := cmd.Context()
	eng, err := a.openQuiet(ctx, false)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer eng.Close() // a collection that does not exist is not created
	docs, err := eng.Documents(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, d := range docs {
		switch {
		case strings.HasPrefix(d.Source, toComplete):
			out = append(out, d.Source)
		case toComplete != "" && strings.HasPrefix(d.ID, toComplete):
			out = append(out, d.ID+"\t"+d.Source)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
