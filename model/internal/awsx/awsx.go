// Package awsx holds what the AWS providers (sagemaker, bedrock) share:
// loading the standard AWS configuration (region, profiles, the credential
// chain, AWS_ENDPOINT_URL_* overrides) and turning the SDK's errors into
// model.Error, so that retries and messages work as for every provider.
package awsx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/remote"
)

// Options are the URI options the AWS providers take besides the common ones.
var Options = []string{"region", "profile"}

// Load reads the AWS configuration the way the AWS CLI does, with the
// URI's region and profile options first. The SDK's own retries are off:
// remote.Do retries, honouring Retry-After like every other provider.
func Load(ctx context.Context, u model.URI) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if r := u.Options.Get("region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := u.Options.Get("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	opts = append(opts, config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		// The SDK's log lines (IMDS fallbacks) would interleave with the
		// CLI's output; failures come back as errors instead.
		config.WithLogger(logging.Nop{}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, &model.URIError{URI: u.Raw, Reason: "AWS configuration: " + err.Error()}
	}
	// The SDK closes a request's body as soon as the response headers
	// arrive, which can race with the transport still finishing the
	// request; the transport then closed the connection under a response
	// stream in testing. Sending a private copy of the (small JSON) body
	// keeps the two apart. The SDK's transport carries any AWS_CA_BUNDLE.
	tr := awshttp.NewBuildableClient().GetTransport()
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		tr = bc.GetTransport()
	}
	cfg.HTTPClient = &http.Client{Transport: remote.LimitAnswers(copyBody{tr})}
	if cfg.Region == "" {
		return cfg, &model.URIError{URI: u.Raw, Reason: "no AWS region: set AWS_REGION, a profile's region, or the region option"}
	}
	return cfg, nil
}

// Error describes a failed AWS call as a model.Error with the HTTP status,
// the service's error code and message, and Retry-After.
func Error(provider, endpoint string, err error) *model.Error {
	me := &model.Error{Provider: provider, Endpoint: endpoint, Err: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		// The SDK wraps every failure in a response error, also when no
		// answer came (status 0, e.g. a cancelled or reset request); its
		// inner error keeps what errors.Is needs (context.Canceled).
		me.Status = re.HTTPStatusCode()
		me.RetryAfter = remote.RetryAfter(re.Response.Header)
		me.Err = re.Err
		if me.Status != 0 {
			me.Err, me.Message = nil, re.Err.Error()
		}
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		me.Message = strings.TrimSpace(fmt.Sprintf("%s: %s", apiErr.ErrorCode(), apiErr.ErrorMessage()))
		switch apiErr.ErrorCode() {
		case "ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException", "InternalStreamFailure":
			if me.Status == 0 {
				me.Status = 503
			}
		}
	}
	var de *smithy.DeserializationError
	switch {
	case errors.As(err, &de) && remote.CutShort(err):
		// The answer's body was cut off in the middle: asking again may work.
		me.Message, me.Err = "the answer was cut short", de.Err
	case errors.As(err, &de):
		me.Message, me.Permanent = "malformed answer", true
	}
	return me
}

// copyBody sends a copy of each request's body.
type copyBody struct{ next http.RoundTripper }

func (c copyBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.ContentLength = int64(len(data))
	}
	return c.next.RoundTrip(req)
}
