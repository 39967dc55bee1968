package fakemodel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/eventstream"
)

// The credentials and region the AWS fakes put in the environment and
// check signatures against.
const (
	AccessKeyID     = "AKIDDISTILLFAKE"
	SecretAccessKey = "distill-fake-secret-key"
	Region          = "eu-west-3"
)

// useAWS points the AWS SDK at the fake through the standard environment:
// static credentials, a region, no shared config files, no instance
// metadata, and the service's AWS_ENDPOINT_URL_* override. It uses
// t.Setenv, so tests using AWS fakes cannot run in parallel.
func useAWS(t testing.TB, endpointEnv, url string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": AccessKeyID, "AWS_SECRET_ACCESS_KEY": SecretAccessKey, "AWS_REGION": Region,
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", endpointEnv: url,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k)
		}
	}
}

// verifySigV4 checks a request's Authorization header the way AWS does:
// the credential scope must name the access key, the region and the
// service, and the signature must be the one the SDK's own signer computes
// over the signed headers and the body with the secret key.
func verifySigV4(r *http.Request, body []byte, secret, service string) error {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return fmt.Errorf("missing or non-SigV4 Authorization header %q", auth)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return fmt.Errorf("malformed credential scope %q", fields["Credential"])
	}
	if scope[0] != AccessKeyID {
		return fmt.Errorf("unknown access key %q", scope[0])
	}
	if scope[2] != Region || scope[3] != service {
		return fmt.Errorf("credential scope is for region %q, service %q; want %q, %q", scope[2], scope[3], Region, service)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("bad X-Amz-Date %q", r.Header.Get("X-Amz-Date"))
	}
	if when.Format("20060102") != scope[1] {
		return fmt.Errorf("X-Amz-Date %s does not match the scope's date %s", when.Format("20060102"), scope[1])
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	clone, _ := http.NewRequestWithContext(context.Background(), r.Method, u.String(), nil)
	clone.URL = &u
	clone.Host = r.Host
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h == "host" {
			continue
		}
		if h == "content-length" { // Go's server moves it out of the header
			clone.ContentLength = r.ContentLength
			continue
		}
		if vs := r.Header.Values(h); len(vs) > 0 {
			clone.Header[http.CanonicalHeaderKey(h)] = vs
		} else {
			return fmt.Errorf("signed header %q is missing", h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, clone, hex.EncodeToString(sum[:]), service, Region, when); err != nil {
		return err
	}
	want := clone.Header.Get("Authorization")
	if want != auth {
		return fmt.Errorf("the request signature does not match (got %q, want %q)", auth, want)
	}
	return nil
}

// awsError answers as AWS's REST-JSON services do.
func awsError(w http.ResponseWriter, status int, typ, msg, retryAfter string) {
	w.Header().Set("X-Amzn-ErrorType", typ)
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, map[string]any{"message": msg}, Fault{})
}

// writeEvent writes one message of AWS's binary event-stream framing
// (prelude, headers, payload, CRCs), as the SDK's own encoder does.
func writeEvent(w io.Writer, messageType, eventType, contentType string, payload []byte) {
	var hs eventstream.Headers
	hs.Set(":message-type", eventstream.StringValue(messageType))
	if messageType == "exception" {
		hs.Set(":exception-type", eventstream.StringValue(eventType))
	} else {
		hs.Set(":event-type", eventstream.StringValue(eventType))
	}
	hs.Set(":content-type", eventstream.StringValue(contentType))
	_ = eventstream.NewEncoder().Encode(w, eventstream.Message{Headers: hs, Payload: payload})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// WrongSecret makes an AWS fake check signatures against another secret
// key than the one it puts in the environment, as AWS does for a key
// whose secret is wrong.
func WrongSecret() Option {
	return func(c *config) { c.apiKey = "wrong-secret" }
}

func (s *Server) awsSecret() string {
	if s.cfg.apiKey != "" {
		return s.cfg.apiKey
	}
	return SecretAccessKey
}
