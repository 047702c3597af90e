package fusionstore

import (
	"encoding/hex"
	"hash/maphash"
	"strconv"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// An export reaches DuckDB as columns: the row builders fill one typed
// column per table column, and a table function (ingest.go) hands them to
// DuckDB a chunk at a time, so a value is written into DuckDB's vector
// directly, with no per-row driver.Value boxing and no per-row map values
// built in Go. Attribute maps and bucket lists travel as JSON text that the
// INSERT casts to MAP(VARCHAR, VARCHAR) and BIGINT[] inside DuckDB.

// column is one column of a batch of rows.
type column interface {
	// put writes rows [from, from+n) into column col of chunk.
	put(chunk duckdb.DataChunk, col, from, n int) error
	// reset empties the column, keeping its capacity and dropping its
	// references to the export's strings.
	reset()
}

// textColumn is a VARCHAR column whose values are the export's own strings.
type textColumn struct {
	values []string
	null   []bool
}

func (c *textColumn) add(v string) { c.values, c.null = append(c.values, v), append(c.null, false) }
func (c *textColumn) addNull()     { c.values, c.null = append(c.values, ""), append(c.null, true) }
func (c *textColumn) addOptional(v *string) {
	if v == nil {
		c.addNull()
		return
	}
	c.add(*v)
}

func (c *textColumn) reset() {
	clear(c.values)
	c.values, c.null = c.values[:0], c.null[:0]
}

func (c *textColumn) put(chunk duckdb.DataChunk, col, from, n int) error {
	for i := from; i < from+n; i++ {
		var err error
		if c.null[i] {
			err = chunk.SetValue(col, i-from, nil)
		} else {
			err = duckdb.SetChunkValue(chunk, col, i-from, validUTF8(c.values[i]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// bytesColumn is a VARCHAR column whose values the row builders wrote into
// one arena: hex ids and JSON text. Rows may share bytes (every span of a
// resource points at the resource's one JSON object).
type bytesColumn struct {
	arena       []byte
	start, stop []int32
}

// mark records arena[from:] as the next row's value.
func (c *bytesColumn) mark(from int) {
	c.start, c.stop = append(c.start, int32(from)), append(c.stop, int32(len(c.arena)))
}

// again records the value of an earlier row (from, to) once more.
func (c *bytesColumn) again(from, to int32) {
	c.start, c.stop = append(c.start, from), append(c.stop, to)
}

func (c *bytesColumn) addNull() { c.start, c.stop = append(c.start, -1), append(c.stop, -1) }

// addTraceID adds the lowercase hex id, or NULL for the empty id.
func (c *bytesColumn) addTraceID(id pcommon.TraceID) {
	if id.IsEmpty() {
		c.addNull()
		return
	}
	from := len(c.arena)
	c.arena = hex.AppendEncode(c.arena, id[:])
	c.mark(from)
}

func (c *bytesColumn) addSpanID(id pcommon.SpanID) {
	if id.IsEmpty() {
		c.addNull()
		return
	}
	from := len(c.arena)
	c.arena = hex.AppendEncode(c.arena, id[:])
	c.mark(from)
}

// addMap adds an attribute map as a JSON object of strings and returns
// where it is, for rows that repeat it.
func (c *bytesColumn) addMap(m pcommon.Map) (int32, int32) {
	from := len(c.arena)
	c.arena = appendMapJSON(c.arena, m)
	c.mark(from)
	return c.start[len(c.start)-1], c.stop[len(c.stop)-1]
}

// addCounts adds bucket counts as a JSON array, or NULL for nil.
func (c *bytesColumn) addCounts(counts []uint64) {
	if counts == nil {
		c.addNull()
		return
	}
	from := len(c.arena)
	c.arena = append(c.arena, '[')
	for i, n := range counts {
		if i > 0 {
			c.arena = append(c.arena, ',')
		}
		c.arena = strconv.AppendInt(c.arena, int64(n), 10)
	}
	c.arena = append(c.arena, ']')
	c.mark(from)
}

func (c *bytesColumn) reset() {
	c.arena, c.start, c.stop = c.arena[:0], c.start[:0], c.stop[:0]
}

func (c *bytesColumn) put(chunk duckdb.DataChunk, col, from, n int) error {
	for i := from; i < from+n; i++ {
		var err error
		if c.start[i] < 0 {
			err = chunk.SetValue(col, i-from, nil)
		} else {
			err = duckdb.SetChunkValue(chunk, col, i-from, c.arena[c.start[i]:c.stop[i]])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// numberColumn is a BIGINT (int64) or DOUBLE (float64) column.
type numberColumn[T int64 | float64] struct {
	values []T
	null   []bool
}

type (
	int64Column   = numberColumn[int64]
	float64Column = numberColumn[float64]
)

func (c *numberColumn[T]) add(v T) { c.values, c.null = append(c.values, v), append(c.null, false) }
func (c *numberColumn[T]) addNull() {
	var zero T
	c.values, c.null = append(c.values, zero), append(c.null, true)
}
func (c *numberColumn[T]) reset() { c.values, c.null = c.values[:0], c.null[:0] }

// bounds is the lowest and highest value of a column without NULLs and
// with at least one row.
func (c *numberColumn[T]) bounds() (lo, hi T) {
	lo, hi = c.values[0], c.values[0]
	for _, v := range c.values[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

func (c *numberColumn[T]) put(chunk duckdb.DataChunk, col, from, n int) error {
	for i := from; i < from+n; i++ {
		var err error
		if c.null[i] {
			err = chunk.SetValue(col, i-from, nil)
		} else {
			err = duckdb.SetChunkValue(chunk, col, i-from, c.values[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// validUTF8 returns s, with each invalid byte sequence replaced by U+FFFD:
// DuckDB refuses a VARCHAR that is not UTF-8, and one bad value must not
// cost the export its other rows.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	return string(appendValidUTF8(out, s))
}

func appendValidUTF8(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// appendMapJSON appends m as a JSON object of its values' OTLP string form
// (AnyValue.AsString: numbers and booleans as text, maps and lists as JSON,
// bytes as base64). A key the sender repeated keeps its last value, as a
// DuckDB map must have unique keys (a JSON object cast to a MAP keeps both).
func appendMapJSON(dst []byte, m pcommon.Map) []byte {
	start := len(dst)
	dst = append(dst, '{')
	// Repeated keys are rare (pdata's Put replaces), so they are looked for
	// only where a key's hash falls on a bit an earlier key set.
	var seen [4]uint64
	i := 0
	for k, v := range m.All() {
		h := maphash.String(keySeed, k)
		word, bit := (h>>6)&3, uint64(1)<<(h&63)
		if seen[word]&bit != 0 && repeatsEarlierKey(m, k, i) {
			return appendMapJSONLastWins(dst[:start], m)
		}
		seen[word] |= bit
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONEntry(dst, k, v)
		i++
	}
	return append(dst, '}')
}

var keySeed = maphash.MakeSeed()

// repeatsEarlierKey reports whether one of the first i entries of m has key k.
func repeatsEarlierKey(m pcommon.Map, k string, i int) bool {
	j := 0
	for k2 := range m.All() {
		if j == i {
			return false
		}
		if k2 == k {
			return true
		}
		j++
	}
	return false
}

// appendMapJSONLastWins is appendMapJSON for a map with repeated keys: each
// key once, at its first place, with its last value.
func appendMapJSONLastWins(dst []byte, m pcommon.Map) []byte {
	last := make(map[string]pcommon.Value, m.Len())
	for k, v := range m.All() {
		last[k] = v
	}
	dst = append(dst, '{')
	first := true
	for k := range m.All() {
		v, ok := last[k]
		if !ok {
			continue
		}
		delete(last, k)
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONEntry(dst, k, v)
	}
	return append(dst, '}')
}

func appendJSONEntry(dst []byte, k string, v pcommon.Value) []byte {
	dst = appendJSONString(dst, k)
	dst = append(dst, ':')
	if v.Type() == pcommon.ValueTypeStr {
		return appendJSONString(dst, v.Str())
	}
	return appendJSONString(dst, v.AsString())
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, invalid UTF-8 replaced by
// U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
			i++
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(dst, '"')
}
