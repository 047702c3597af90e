package otlpgo

import (
	"errors"
	"fmt"
	"strings"
)

// The sentinel errors of the decoder. Decode wraps each in a *DecodeError that
// says where it happened; test for them with errors.Is. docs/protocol.md
// ("Errors") lists which input raises which.
var (
	// ErrTruncated: the frame ends before a field, stream or section does.
	ErrTruncated = errors.New("otlpgo: truncated")
	// ErrBadMagic: the frame does not start with the magic "OTGO".
	ErrBadMagic = errors.New("otlpgo: bad magic")
	// ErrUnsupportedVersion: the major version, or a header flag, is unknown
	// to this reader.
	ErrUnsupportedVersion = errors.New("otlpgo: unsupported version")
	// ErrLimitExceeded: a size or count is over the decoder's Limits;
	// DecodeError.Limit names which.
	ErrLimitExceeded = errors.New("otlpgo: limit exceeded")
	// ErrDictIndex: a string reference points past the frame dictionary.
	ErrDictIndex = errors.New("otlpgo: dictionary index out of range")
	// ErrTooDeep: map and array values nest deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("otlpgo: value nested too deep")
	// ErrTrailingBytes: bytes are left after the body, a section or a stream.
	ErrTrailingBytes = errors.New("otlpgo: trailing bytes")
	// ErrMalformed: anything else that breaks the format, such as an unknown
	// value tag, a bad varint, a duplicate section or corrupt zstd data.
	ErrMalformed = errors.New("otlpgo: malformed frame")
	// ErrStreamState: a stream frame (v2) that does not follow the state the
	// reader has: a stateless reader, a sequence number other than the next,
	// or a frame after one that failed. The sender resets its stream.
	ErrStreamState = errors.New("otlpgo: stream state lost")
)

// DecodeError is the error Decode returns: which sentinel, in which section,
// at which offset, with a detail for humans and, for a limit, its config key.
type DecodeError struct {
	// Section is "header", "dict", "traces", "logs", "metrics" or "body".
	Section string
	// Offset counts bytes from the start of the frame, with the body counted
	// after decompression (header size + offset in the body).
	Offset int
	// Err is one of the sentinel errors above.
	Err error
	// Detail says what was wrong, e.g. "string index 90 out of range (dict has 41)".
	Detail string
	// Limit is the config key of the limit that was hit ("max_decoded_bytes",
	// "max_items", ...; see Limits) when Err is ErrLimitExceeded or
	// ErrTooDeep, else empty.
	Limit string
}

// Error renders "otlpgo: section logs at offset 812: string index 90 out of
// range (dict has 41)".
func (e *DecodeError) Error() string {
	detail := e.Detail
	if detail == "" && e.Err != nil {
		detail = strings.TrimPrefix(e.Err.Error(), "otlpgo: ")
	}
	return fmt.Sprintf("otlpgo: section %s at offset %d: %s", e.Section, e.Offset, detail)
}

// Unwrap returns the sentinel so errors.Is works.
func (e *DecodeError) Unwrap() error { return e.Err }
