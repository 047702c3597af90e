package otlpgo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdLevel is the level of compressed frames; benchmarks compress OTLP with
// the same level.
const zstdLevel = zstd.SpeedDefault

// zstdEncoder is shared by all Encoders: EncodeAll is safe for concurrent use.
var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	// Entropy-code literals even where a block has no matches: the times
	// and raw streams of random timestamps and ids have none, but their
	// bytes are skewed (varint high bits), and stored raw they cost up to a
	// quarter more (telemetrygen-shaped metrics, cmd/otlpgobench).
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstdLevel), zstd.WithAllLitEntropyCompression(true))
	if err != nil {
		panic(err) // only on invalid options, which are constant here
	}
	return enc
})

// zstdDecoder backs ZstdDecoder. Frames are not decoded with it: DecodeAll
// may append a whole block past cap(dst) before it checks the cap.
var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	dec, err := zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderConcurrency(0))
	if err != nil {
		panic(err)
	}
	return dec
})

// ZstdEncoder returns the shared zstd encoder frames are compressed with, so
// that comparisons (benchmarks, OTLP+zstd baselines) use the same settings.
// It is safe for concurrent use; do not Close it.
func ZstdEncoder() *zstd.Encoder { return zstdEncoder() }

// ZstdDecoder returns a shared zstd decoder for comparisons with OTLP+zstd.
// It is safe for concurrent use and limits DecodeAll to cap(dst); do not
// Close it.
func ZstdDecoder() *zstd.Decoder { return zstdDecoder() }

// maxZstdWindow bounds the window of a compressed body: the encoder's
// (klauspost SpeedDefault, 8 MiB), which bodies over 8 MiB use.
const maxZstdWindow = 8 << 20

// firstInflateChunk is the size of the first chunk a body is staged in;
// each next one is twice as large, within what raw_len leaves.
const firstInflateChunk = 64 << 10

// zstdWindowLimit is the largest window a body of rawLen bytes may declare:
// its size rounded up to a power of two (a writer that knows the size needs
// no more), at most maxZstdWindow, and at least 2 KiB: klauspost's EncodeAll
// declares a 2 KiB window for a body of exactly zstd's minimum 1 KiB (it
// writes a single-segment frame only above it), and such frames are ours.
func zstdWindowLimit(rawLen uint64) uint64 {
	if rawLen <= 2*zstd.MinWindowSize {
		return 2 * zstd.MinWindowSize
	}
	return min(maxZstdWindow, uint64(1)<<bits.Len64(rawLen-1))
}

// inflateCost is what decompressing a body of rawLen bytes spends of the
// frame's budget: the body, and the chunks it is staged in until the zstd
// stream has proven to end at raw_len (readBody).
func inflateCost(rawLen uint64) int64 {
	return 2 * int64(rawLen)
}

// zstdHistory is the memory the zstd decoder keeps for the history of a body
// of rawLen bytes: its window limit and two blocks of room. It is the
// decoder's, reused from one body to the next, so it is not spent from the
// budget; DecodeCost counts it.
func zstdHistory(rawLen uint64) int64 {
	window := zstdWindowLimit(rawLen)
	return int64(window + 2*(min(window, 128<<10)+32))
}

// zstdStream decodes bodies one after another. The history window lives in
// the zstd decoder and is reused from one body to the next.
type zstdStream struct {
	dec    *zstd.Decoder
	src    bytes.Reader
	window uint64 // the window limit dec was last reset with
}

func newZstdStream() (*zstdStream, error) {
	// One goroutine (no concurrency) and low memory: the decoder reads
	// block by block as Read asks for them.
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderMaxMemory(maxZstdWindow))
	if err != nil {
		return nil, err
	}
	return &zstdStream{dec: dec, window: maxZstdWindow}, nil
}

// inflate decompresses body, which must be exactly rawLen bytes decompressed.
// It checks the zstd frame header first, then reads the stream (readBody),
// refusing one that ends before rawLen or goes on after it.
func (d *Decoder) inflate(body []byte, rawLen uint64) ([]byte, error) {
	zstdErr := func(off int, format string, args ...any) error {
		return &DecodeError{Section: "header", Offset: off, Err: ErrMalformed, Detail: fmt.Sprintf(format, args...)}
	}
	var zh zstd.Header
	if err := zh.Decode(body); err != nil {
		return nil, zstdErr(headerSize, "corrupt zstd body: %v", err)
	}
	if zh.Skippable {
		return nil, zstdErr(headerSize, "zstd body starts with a skippable frame")
	}
	window := zh.WindowSize
	if zh.SingleSegment {
		window = max(zh.FrameContentSize, zstd.MinWindowSize)
	}
	limit := zstdWindowLimit(rawLen)
	if window > limit {
		return nil, zstdErr(headerSize, "zstd window is %d bytes, a body of raw_len %d may use %d", window, rawLen, limit)
	}
	if zh.HasFCS && zh.FrameContentSize != rawLen {
		return nil, zstdErr(12, "zstd frame content size is %d, raw_len says %d", zh.FrameContentSize, rawLen)
	}

	if d.zstd == nil {
		zs, err := newZstdStream()
		if err != nil {
			return nil, zstdErr(headerSize, "zstd: %v", err)
		}
		d.zstd = zs
	}
	zs := d.zstd
	zs.src.Reset(body)
	var err error
	if limit != zs.window {
		// Later frames of the body, if any, are held to the same window.
		err = zs.dec.ResetWithOptions(&zs.src, zstd.WithDecoderMaxWindow(limit))
		zs.window = limit
	} else {
		err = zs.dec.Reset(&zs.src)
	}
	if err != nil {
		return nil, zstdErr(headerSize, "zstd: %v", err)
	}
	defer func() {
		zs.src.Reset(nil)
		_ = zs.dec.Reset(nil) // let go of the body
	}()

	out, read, err := readBody(zs.dec, d.scratch, int(rawLen))
	switch {
	case errors.Is(err, errBodyLonger):
		return nil, zstdErr(12, "zstd body is longer than raw_len %d", rawLen)
	case errors.Is(err, io.EOF):
		return nil, zstdErr(12, "zstd body is %d bytes, raw_len says %d", read, rawLen)
	case err != nil:
		return nil, zstdErr(headerSize, "corrupt zstd body: %v", err)
	}
	if cap(out) > cap(d.scratch) {
		d.scratch = out[:0]
	}
	return out, nil
}

var errBodyLonger = errors.New("body longer than raw_len")

// readBody reads r, which must hold exactly rawLen bytes, into scratch if
// that can hold them. Otherwise it stages the output in chunks, allocated as
// output arrives and together no larger than rawLen, and copies them into a
// buffer of rawLen bytes once r has ended there: what it allocates follows
// what r produces, and never passes rawLen for a stream that turns out
// shorter or longer. It returns the body and the bytes read; io.EOF if r
// ends before rawLen, errBodyLonger if it goes on after.
func readBody(r io.Reader, scratch []byte, rawLen int) ([]byte, int, error) {
	if cap(scratch) >= rawLen {
		body := scratch[:rawLen]
		if n, err := fill(r, body); err != nil {
			return nil, n, err
		}
		return body, rawLen, atEnd(r)
	}
	var chunks [][]byte
	read := 0
	for size := firstInflateChunk; read < rawLen; size *= 2 {
		chunk := make([]byte, min(size, rawLen-read))
		n, err := fill(r, chunk)
		read += n
		if err != nil {
			return nil, read, err
		}
		chunks = append(chunks, chunk)
	}
	if err := atEnd(r); err != nil {
		return nil, read, err
	}
	if len(chunks) == 1 {
		return chunks[0], read, nil
	}
	body := make([]byte, 0, rawLen)
	for _, c := range chunks {
		body = append(body, c...)
	}
	return body, read, nil
}

// fill reads r into all of p; io.EOF if r ends first.
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err == io.EOF && n == len(p) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// atEnd checks that r has nothing left.
func atEnd(r io.Reader) error {
	var probe [1]byte
	n, err := r.Read(probe[:])
	switch {
	case n > 0:
		return errBodyLonger
	case err == io.EOF:
		return nil
	case err == nil:
		return io.ErrNoProgress
	default:
		return err
	}
}
