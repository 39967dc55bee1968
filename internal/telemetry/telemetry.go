// Package telemetry sets up OpenTelemetry tracing for the distill binary:
// an OTLP/HTTP exporter when the standard OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variable is set, nothing otherwise.
// The engine and library packages use only the OpenTelemetry API; the SDK
// and the exporter are compiled only into programs that import this
// package.
package telemetry

import (
	"context"
	"os"
	"strings"
)

// Enabled reports whether the environment asks for traces: an OTLP
// endpoint is set, and neither OTEL_SDK_DISABLED=true nor
// OTEL_TRACES_EXPORTER=none turns them off.
func Enabled(getenv func(string) string) bool {
	if getenv == nil {
		getenv = os.Getenv
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		return false
	}
	return strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != "" ||
		strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != ""
}

// Setup installs the global tracer provider when Enabled; it returns what
// flushes and stops it (a no-op when nothing was installed), and installed
// says whether a provider was.
func Setup(ctx context.Context) (shutdown func(context.Context) error, installed bool, err error) {
	if !Enabled(os.Getenv) {
		return func(context.Context) error { return nil }, false, nil
	}
	return setup(ctx)
}
