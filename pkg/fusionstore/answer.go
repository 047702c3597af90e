package fusionstore

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
)

// The HTTP trailers of an answer that ended early (both formats). The status
// (200) and the rows before the end are already sent by then.
const (
	// trailerTruncated is "true" when the answer lacks rows it should have.
	trailerTruncated = "X-Fusion-Truncated"
	// trailerError says why: the byte cap, the timeout, a failed scan.
	trailerError = "X-Fusion-Error"
)

// StreamedAnswer is an AnswerWriter that writes one 200 HTTP answer as its
// rows are scanned, JSON (`{"columns": [...], "rows": [[...], ...]}`) or CSV
// (a header line, then a line per row), and stops before the body passes
// maxBytes. Only one row is encoded at a time. Not safe for concurrent use.
type StreamedAnswer struct {
	w        http.ResponseWriter
	isCSV    bool
	maxBytes int64

	started bool // the status is sent: errors go in the body's end
	written int64
	rows    int

	buf     bytes.Buffer
	jsonEnc *json.Encoder
	csvEnc  *csv.Writer
	record  []string
}

// NewStreamedAnswer answers on w in format ("csv", else JSON), at most
// maxBytes of rows.
func NewStreamedAnswer(w http.ResponseWriter, format string, maxBytes int64) *StreamedAnswer {
	a := &StreamedAnswer{w: w, isCSV: format == "csv", maxBytes: maxBytes}
	a.jsonEnc = json.NewEncoder(&a.buf)
	a.csvEnc = csv.NewWriter(&a.buf)
	return a
}

// Begin sends the status and the column names.
func (a *StreamedAnswer) Begin(columns []string) error {
	header := a.w.Header()
	if a.isCSV {
		header.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		header.Set("Content-Type", "application/json")
	}
	header.Set("Trailer", trailerTruncated+", "+trailerError)
	a.w.WriteHeader(http.StatusOK)
	a.started = true

	a.buf.Reset()
	if a.isCSV {
		a.record = make([]string, len(columns))
		if err := a.encodeCSV(columns); err != nil {
			return err
		}
	} else {
		a.buf.WriteString(`{"columns":`)
		if err := a.encodeJSON(columns); err != nil {
			return err
		}
		a.buf.WriteString(`,"rows":[`)
	}
	return a.send()
}

// Row sends one row, or returns ErrAnswerTooLarge (sending nothing) when it
// would take the body past maxBytes.
func (a *StreamedAnswer) Row(values []any) error {
	a.buf.Reset()
	if a.isCSV {
		for i, v := range values {
			a.record[i] = formatValue(v)
		}
		if err := a.encodeCSV(a.record); err != nil {
			return err
		}
	} else {
		if a.rows > 0 {
			a.buf.WriteByte(',')
		}
		if err := a.encodeJSON(values); err != nil {
			return err
		}
	}
	if a.written+int64(a.buf.Len()) > a.maxBytes {
		return fmt.Errorf("%w (%d bytes) after %d rows", ErrAnswerTooLarge, a.maxBytes, a.rows)
	}
	a.rows++
	return a.send()
}

// Finish ends a started answer. A nil cause completes it; any other ends it
// early: JSON closes with `"truncated": true` and `"error"`, and both formats
// set the trailers.
func (a *StreamedAnswer) Finish(cause error) {
	if !a.isCSV {
		a.buf.Reset()
		a.buf.WriteByte(']')
		if cause != nil {
			a.buf.WriteString(`,"truncated":true,"error":`)
			_ = a.encodeJSON(cause.Error())
		}
		a.buf.WriteString("}\n")
		_ = a.send()
	}
	if cause != nil {
		a.w.Header().Set(trailerTruncated, "true")
		a.w.Header().Set(trailerError, cause.Error())
	}
}

// Started reports whether Begin has sent the status (200) and the column
// names: from then on an error can only end the answer (Finish), not replace
// it with an error status.
func (a *StreamedAnswer) Started() bool { return a.started }

// encodeJSON appends v to buf without the encoder's trailing newline.
func (a *StreamedAnswer) encodeJSON(v any) error {
	if err := a.jsonEnc.Encode(v); err != nil {
		return fmt.Errorf("encoding the answer: %w", err)
	}
	a.buf.Truncate(a.buf.Len() - 1)
	return nil
}

// encodeCSV appends one CSV line to buf.
func (a *StreamedAnswer) encodeCSV(record []string) error {
	if err := a.csvEnc.Write(record); err != nil {
		return err
	}
	a.csvEnc.Flush()
	return a.csvEnc.Error()
}

// send writes buf to the client.
func (a *StreamedAnswer) send() error {
	n, err := a.w.Write(a.buf.Bytes())
	a.written += int64(n)
	return err
}

// formatValue prints one value for CSV: numbers in full, lists as JSON.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Int:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
