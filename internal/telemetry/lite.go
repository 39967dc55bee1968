//go:build lite

package telemetry

import (
	"context"
	"errors"
)

// setup in the lite build: the OTLP exporter brings in gRPC, which the lite
// build leaves out, so traces are not available there.
func setup(context.Context) (func(context.Context) error, bool, error) {
	return nil, false, errors.New("traces: OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build of distill (built with -tags lite) has no OTLP exporter; build it without the lite tag")
}
