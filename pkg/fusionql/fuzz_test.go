package fusionql

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// -update rewrites the committed fuzz seed corpus:
//
//	go test ./pkg/fusionql -run TestFuzzSeeds -update
var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz/FuzzParse")

// fuzzSeeds are the committed seeds: the valid corpus plus inputs that stop
// at each kind of error.
func fuzzSeeds() []string {
	seeds := append([]string(nil), roundTripCorpus...)
	return append(seeds,
		"DROP TABLE traces",
		"SELECT * FROM traces; SELECT 1",
		"SELECT * FROM logs WHERE body = 'x",
		"SELECT * FROM traces WHERE duration_ns > INTERVAL '5y'",
		"SELECT service_name FROM traces t JOIN logs l ON l.trace_id = t.trace_id",
		"SELECT - - -1, NOT NOT (1 = 1) FROM metrics",
		"SELECT CASE WHEN 1 = 1 THEN 'x' FROM traces",
		"SELECT CASE level WHEN 1 THEN CASE END END FROM logs",
		"SELECT * FROM traces OFFSET 1 LIMIT 1",
		"SELECT TIME_BUCKET(INTERVAL '0s', start_time) FROM traces",
		"SELECT body FROM logs HAVING level = 'x'",
		"SELECT attributes['?\"'] FROM logs WHERE resource['k''?'] = 1",
		"SELECT operation['x'] FROM traces",
		"SELECT attributes[1] FROM traces",
		"SELECT t.operation, COUNT(*) FROM traces t JOIN logs l ON l.trace_id = t.trace_id "+
			"AND TIME_BUCKET(INTERVAL '1m', l.timestamp) = TIME_BUCKET(INTERVAL '1m', t.start_time) GROUP BY t.operation",
	)
}

func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	if *update {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for i, seed := range fuzzSeeds() {
			body := fmt.Sprintf("go test fuzz v1\nstring(%q)\n", seed)
			require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed_%02d", i)), []byte(body), 0o644))
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(entries), len(fuzzSeeds()), "run with -update to write the seeds")
}

// FuzzParse: parsing must never panic; an error is an *Error inside the
// text; whatever parses prints and re-parses to the same tree; whatever
// validates translates without panicking, with one argument per ?.
func FuzzParse(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		q, err := ParseSyntax(text)
		if err != nil {
			requirePositionedError(t, text, err)
			return
		}
		requireRoundTrip(t, q)

		q, err = Parse(text)
		if err != nil {
			requirePositionedError(t, text, err)
			return
		}
		for _, opts := range []TranslateOptions{
			{},
			{Tenant: "t'1", MaxRows: 10, DefaultTimeWindow: time.Hour, Now: testNow},
		} {
			sql, args, err := DuckDB{}.Translate(q, opts)
			if err != nil {
				requirePositionedError(t, text, err)
				continue
			}
			require.Equal(t, len(args), countParams(sql), "parameters of %q", sql)
		}
		requireRoundTrip(t, q)
	})
}

func requirePositionedError(t *testing.T, text string, err error) {
	t.Helper()
	var perr *Error
	require.ErrorAs(t, err, &perr)
	require.GreaterOrEqual(t, perr.Pos.Offset, 0)
	require.LessOrEqual(t, perr.Pos.Offset, len(text))
	require.GreaterOrEqual(t, perr.Pos.Line, 1)
	require.GreaterOrEqual(t, perr.Pos.Col, 1)
}

// countParams counts ? marks outside double-quoted identifiers and
// single-quoted strings (the inline keys of map lookups). A doubled quote
// leaves and re-enters its quoting, which counts the same.
func countParams(sql string) int {
	n, quote := 0, rune(0)
	for _, c := range sql {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '?':
			n++
		}
	}
	return n
}
