//go:build !lite

package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/cloud"
	"github.com/distill-rag/distill/cloud/endpoint"
)

func (a *app) awsCmd() *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "Deploy, list and delete SageMaker endpoints for your models",
		Long: `Deploy SageMaker JumpStart models as endpoints for distill to use, list the
endpoints distill created, and delete them. Endpoints cost money for every
hour they run: delete them when you are done.

AWS configuration comes from the standard chain (AWS_REGION, AWS_PROFILE,
credentials files, instance roles) and honours AWS_ENDPOINT_URL_SAGEMAKER
and AWS_ENDPOINT_URL_S3.`,
	}
	cmd.PersistentFlags().StringVar(&region, "region", "", "AWS region (default: the configured one)")
	cmd.AddCommand(a.awsDeployCmd(&region), a.awsLsCmd(&region), a.awsDeleteCmd(&region))
	return cmd
}

func (a *app) awsDeployCmd(region *string) *cobra.Command {
	var instanceType, name, role string
	var yes, acceptEULA, noWait bool
	cmd := &cobra.Command{
		Use:   "deploy MODEL_ID",
		Short: "Deploy a JumpStart model to a SageMaker endpoint",
		Long: `Deploy a JumpStart model to a new SageMaker endpoint and wait until it
serves. MODEL_ID is a JumpStart model id or one of the study's shortcuts:
mixtral-8x7b-instruct (huggingface-llm-mixtral-8x7b-instruct) and
bge-large-en (huggingface-sentencesimilarity-bge-large-en).

Running deploy again with the same --name resumes an interrupted deploy.`,
		Example: `  distill aws deploy mixtral-8x7b-instruct \
    --role arn:aws:iam::123456789012:role/sm
  distill aws deploy bge-large-en --instance-type ml.g5.2xlarge --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if role == "" {
				role = os.Getenv("DISTILL_SAGEMAKER_ROLE")
			}
			c, err := cloud.Open(ctx, *region)
			if err != nil {
				return err
			}
			plan, err := c.Plan(ctx, args[0], instanceType, name)
			if err != nil {
				return err
			}
			price := "price unknown"
			if plan.PricePerHour > 0 {
				price = fmt.Sprintf("about $%.2f an hour, $%.0f a day (us-east-1 on-demand)", plan.PricePerHour, 24*plan.PricePerHour)
			}
			fmt.Fprintf(a.stderr, "Deploying %s %s as endpoint %s in %s\n  on 1 x %s, %s, until you delete it.\n",
				plan.Hosting.ModelID, plan.Hosting.Version, plan.Name, c.Region, plan.Hosting.InstanceType, price)
			if !yes {
				ok, err := a.confirm("Create it?")
				if err != nil {
					return err
				}
				if !ok {
					return &exitError{code: 1, msg: "not deployed"}
				}
			}
			progress := func(msg string) { fmt.Fprintln(a.stderr, "  "+msg) }
			if noWait {
				err = c.Endpoints.Deploy(ctx, endpoint.Deployment{Name: plan.Name, Hosting: plan.Hosting, Role: role, AcceptEULA: acceptEULA}, progress)
			} else {
				err = c.Deploy(ctx, plan, role, acceptEULA, progress)
			}
			if err != nil {
				return &hintError{err: err, hint: fmt.Sprintf("resume with: distill aws deploy %s --name %s; remove with: distill aws delete %s", args[0], plan.Name, plan.Name)}
			}
			flag, uri := endpoint.URI(plan.Name, plan.Hosting.Kind)
			if a.jsonOut {
				writeJSON(a.stdout, map[string]string{"name": plan.Name, "model_id": plan.Hosting.ModelID, "instance_type": plan.Hosting.InstanceType, "flag": flag, "uri": uri})
				return nil
			}
			fmt.Fprintf(a.stdout, "%s %s\n", flag, uri)
			fmt.Fprintf(a.stderr, "Endpoint %s is in service. Delete it when done: distill aws delete %s\n", plan.Name, plan.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&instanceType, "instance-type", "", "instance type (default: the model's default)")
	cmd.Flags().StringVar(&name, "name", "", "name of the endpoint, its configuration and model (default: distill-MODEL-DATE)")
	cmd.Flags().StringVar(&role, "role", "", "IAM role ARN for the model (default $DISTILL_SAGEMAKER_ROLE)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&acceptEULA, "accept-eula", false, "accept the model's license agreement, for models that require it")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the endpoint is being created")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the result as JSON")
	return cmd
}

// confirm asks a yes/no question on stdin; no answer (EOF) is no.
func (a *app) confirm(question string) (bool, error) {
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(a.stderr)
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func (a *app) awsLsCmd(region *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the endpoints distill created",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cloud.Open(cmd.Context(), *region)
			if err != nil {
				return err
			}
			eps, err := c.Endpoints.List(cmd.Context())
			if err != nil {
				return err
			}
			if a.jsonOut {
				if eps == nil {
					eps = []endpoint.Endpoint{}
				}
				writeJSON(a.stdout, map[string]any{"region": c.Region, "endpoints": eps})
				return nil
			}
			if len(eps) == 0 {
				fmt.Fprintf(a.stdout, "no distill endpoints in %s\n", c.Region)
				return nil
			}
			total := 0.0
			fmt.Fprintf(a.stdout, "%-34s %-10s %-16s %8s %s\n", "NAME", "STATUS", "INSTANCE", "AGE", "$/HOUR")
			for _, e := range eps {
				p, ok := endpoint.HourlyPrice(e.InstanceType)
				ps := "?"
				if ok {
					ps = fmt.Sprintf("%.2f", p)
					total += p
				}
				fmt.Fprintf(a.stdout, "%-34s %-10s %-16s %8s %s\n", shorten(e.Name, 34), e.Status, e.InstanceType, age(e.Age), ps)
			}
			fmt.Fprintf(a.stdout, "%s in %s, about $%.2f an hour together\n", plural(len(eps), "endpoint", "endpoints"), c.Region, total)
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print JSON")
	return cmd
}

func age(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

func (a *app) awsDeleteCmd(region *string) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "delete NAME... | --all",
		Short: "Delete endpoints with their configuration and model",
		Long: `Delete endpoints distill deployed, with their endpoint configuration and
model. Deleting what does not exist (any more) is not an error, so delete
also cleans up after a deploy that failed half-way.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return &flagError{cmd: "distill aws delete", err: fmt.Errorf("name the endpoints to delete, or pass --all")}
			}
			c, err := cloud.Open(cmd.Context(), *region)
			if err != nil {
				return err
			}
			names := args
			if all {
				eps, err := c.Endpoints.List(cmd.Context())
				if err != nil {
					return err
				}
				for _, e := range eps {
					names = append(names, e.Name)
				}
			}
			for _, n := range names {
				removed, err := c.Endpoints.Delete(cmd.Context(), n)
				if err != nil {
					return err
				}
				if len(removed) == 0 {
					fmt.Fprintf(a.stdout, "%s: nothing to delete\n", n)
				} else {
					fmt.Fprintf(a.stdout, "%s: deleted %s\n", n, strings.Join(removed, ", "))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "delete every endpoint distill created in the region")
	return cmd
}

// hintError adds what to do next to an error; it is printed whole.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return describe(e.err) + "\n  " + e.hint }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) UserError()    {}
