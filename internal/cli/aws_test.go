//go:build !lite

package cli_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/fakeaws"
)

func TestAWSDeployListDelete(t *testing.T) {
	r := newRunner(t)
	fake := fakeaws.New(t, "eu-west-1")
	fake.JumpStart()
	fake.DescribesToReady = 0
	r.env = append(r.env, "AWS_ENDPOINT_URL_S3="+fake.URL, "AWS_ENDPOINT_URL_SAGEMAKER="+fake.URL,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=eu-west-1",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true",
		"DISTILL_SAGEMAKER_ROLE=arn:aws:iam::123456789012:role/sm")

	// Without --yes, no answer means no deployment.
	cmd := exec.Command(r.bin, "aws", "deploy", "mixtral-8x7b-instruct", "--name", "distill-mx")
	cmd.Env = r.env
	cmd.Stdin = strings.NewReader("n\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("deploy answered 'n' exited 0")
	}
	if !strings.Contains(stderr.String(), "ml.g5.48xlarge") || !strings.Contains(stderr.String(), "$20.36 an hour") || len(fake.Operations()) != 0 {
		t.Fatalf("confirmation did not state instance and price, or created something: %q %v", stderr.String(), fake.Operations())
	}

	out := r.ok("aws", "deploy", "mixtral-8x7b-instruct", "--name", "distill-mx", "--yes")
	if strings.TrimSpace(out) != "--llm sagemaker:distill-mx?format=tgi" {
		t.Errorf("deploy printed %q, want the --llm URI", out)
	}
	var ls struct {
		Region    string `json:"region"`
		Endpoints []struct {
			Name, Status string
			InstanceType string `json:"instance_type"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(r.ok("aws", "ls", "--json")), &ls); err != nil {
		t.Fatal(err)
	}
	if ls.Region != "eu-west-1" || len(ls.Endpoints) != 1 || ls.Endpoints[0].Name != "distill-mx" || ls.Endpoints[0].InstanceType != "ml.g5.48xlarge" {
		t.Fatalf("aws ls = %+v", ls)
	}
	if out := r.ok("aws", "ls"); !strings.Contains(out, "distill-mx") || !strings.Contains(out, "InService") {
		t.Errorf("aws ls:\n%s", out)
	}
	if out := r.ok("aws", "delete", "--all"); !strings.Contains(out, "distill-mx: deleted endpoint, endpoint configuration, model") {
		t.Errorf("aws delete --all:\n%s", out)
	}
	if out := r.ok("aws", "delete", "distill-mx"); !strings.Contains(out, "nothing to delete") {
		t.Errorf("second delete:\n%s", out)
	}
	if _, errOut, code := r.run("aws", "delete"); code == 0 || !strings.Contains(errOut, "--all") {
		t.Errorf("delete without names: exit %d %q", code, errOut)
	}
	if _, errOut, code := r.run("aws", "deploy", "nosuch-model", "--yes"); code == 0 || !strings.Contains(errOut, "unknown JumpStart model") || strings.Count(errOut, "distill:") != 1 {
		t.Errorf("unknown model: exit %d %q", code, errOut)
	}
}
