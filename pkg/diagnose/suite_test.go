package diagnose_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/diagnose"
	"github.com/otelfusion/otelfusion/pkg/diagnose/incidents"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// suiteEnd is where the first instance's incident ends; each instance
// ends suiteSpacing after the one before it (maxSuiteInstances per kind),
// so instances do not share time.
var suiteEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

const suiteSpacing = time.Hour

// maxSuiteInstances bounds DIAGNOSE_SUITE_INSTANCES, so that an instance
// has the same times however many run.
const maxSuiteInstances = 1000

// suiteInstances is how many instances of each kind TestIncidentSuite runs:
// DIAGNOSE_SUITE_INSTANCES, else 3 (make diagnose-eval runs 50).
func suiteInstances(t *testing.T) int {
	t.Helper()
	if v := os.Getenv("DIAGNOSE_SUITE_INSTANCES"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "DIAGNOSE_SUITE_INSTANCES")
		require.True(t, n >= 1 && n <= maxSuiteInstances, "DIAGNOSE_SUITE_INSTANCES must be 1 to %d", maxSuiteInstances)
		return n
	}
	return 3
}

func openStore(t testing.TB) *fusionstore.Store {
	t.Helper()
	cfg := fusionstore.NewDefaultConfig()
	cfg.Path = t.TempDir() + "/suite.duckdb"
	cfg.CheckpointInterval = 0
	s, err := fusionstore.Open(context.Background(), &cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// TestIncidentSuite generates the incident suite, diagnoses every instance
// and prints top-1 and top-3 accuracy per kind; it fails when a kind is
// below 90% top-1 or 98% top-3.
func TestIncidentSuite(t *testing.T) {
	n := suiteInstances(t)
	store := openStore(t)
	ctx := context.Background()
	type tally struct{ instances, top1, top3 int }
	results := map[incidents.Kind]*tally{}
	var misses []string
	var elapsed time.Duration
	spans := 0
	for _, kind := range incidents.Kinds {
		results[kind] = &tally{}
		for i := range n {
			end := suiteEnd.Add(time.Duration(int(kind)*maxSuiteInstances+i) * suiteSpacing)
			inst := incidents.Generate(kind, uint64(i+1), end)
			require.NoError(t, store.AppendTraces(ctx, inst.Traces))
			require.NoError(t, store.AppendLogs(ctx, inst.Logs))
			require.NoError(t, store.AppendMetrics(ctx, inst.Metrics))
			spans += inst.Traces.SpanCount()
			started := time.Now()
			report, err := diagnose.Diagnose(ctx, store, inst.Tenant, fusionstore.QueryLimits{Timeout: time.Minute}, inst.Request, time.Now())
			elapsed += time.Since(started)
			require.NoError(t, err, "%s #%d", kind, inst.Seed)
			rank := truthRank(report, inst.Truth)
			r := results[kind]
			r.instances++
			if rank == 1 {
				r.top1++
			}
			if rank >= 1 && rank <= 3 {
				r.top3++
			}
			if rank != 1 {
				misses = append(misses, describeMiss(inst, report, rank))
			}
			if i == 0 && testing.Verbose() {
				// The first report of each kind, as fusionql diagnose prints it.
				var table strings.Builder
				require.NoError(t, report.WriteTable(&table))
				t.Logf("%s #%d (%s), truth %q:\n%s", kind, inst.Seed, inst.Fault, inst.Truth, table.String())
			}
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-20s %9s %7s %7s\n", "kind", "instances", "top-1", "top-3")
	total := tally{}
	for _, kind := range incidents.Kinds {
		r := results[kind]
		fmt.Fprintf(&table, "%-20s %9d %6.1f%% %6.1f%%\n", kind, r.instances, pct(r.top1, r.instances), pct(r.top3, r.instances))
		total.instances += r.instances
		total.top1 += r.top1
		total.top3 += r.top3
	}
	fmt.Fprintf(&table, "%-20s %9d %6.1f%% %6.1f%%\n", "all", total.instances, pct(total.top1, total.instances), pct(total.top3, total.instances))
	fmt.Fprintf(&table, "%d spans; mean diagnosis %s\n", spans, (elapsed / time.Duration(total.instances)).Round(time.Millisecond))
	t.Log("incident suite\n" + table.String())
	for _, miss := range misses {
		t.Log(miss)
	}
	for _, kind := range incidents.Kinds {
		r := results[kind]
		require.GreaterOrEqual(t, pct(r.top1, r.instances), 90.0, "top-1 of %s", kind)
		require.GreaterOrEqual(t, pct(r.top3, r.instances), 98.0, "top-3 of %s", kind)
	}
}

func pct(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// truthRank is the rank of the first candidate that names the truth, 0
// when none does.
func truthRank(report *diagnose.Report, truth []string) int {
	for _, c := range report.Candidates {
		for _, subject := range truth {
			if c.Subject() == subject {
				return c.Rank
			}
		}
	}
	return 0
}

func describeMiss(inst incidents.Instance, report *diagnose.Report, rank int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s #%d (%s): truth %q at rank %d; %s\n", inst.Kind, inst.Seed, inst.Fault, inst.Truth, rank, report.Change)
	for i, c := range report.Candidates {
		if i == 5 {
			break
		}
		fmt.Fprintf(&b, "  %d %.3f %s (%s)\n", c.Rank, c.Score, c.Subject(), c.Evidence)
	}
	return b.String()
}
