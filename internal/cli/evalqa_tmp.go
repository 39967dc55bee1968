package cli

import (
	"github.com/spf13/cobra"
	"github.com/distill-rag/distill/eval"
)

func (a *app) evalQA(cmd *cobra.Command, f evalFlags) (*eval.Report, error) { return nil, nil }
