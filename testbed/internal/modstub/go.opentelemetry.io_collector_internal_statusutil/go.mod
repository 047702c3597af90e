module go.opentelemetry.io/collector/internal/statusutil

// An empty stand-in, see the replace directives in testbed/go.mod: the
// framework imports statusutil from go.opentelemetry.io/collector v0.148.0,
// and this keeps the later stand-alone module from providing it twice.

go 1.21
