package diagnose

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Kind is what a candidate cause is.
type Kind uint8

const (
	// KindLatency is an operation whose self time grew on the traces.
	KindLatency Kind = iota + 1
	// KindErrors is an operation whose own errors (not its children's) grew.
	KindErrors
	// KindAttribute is an attribute value (pod, host, version, statement,
	// route, tenant) that the growth or the slow traces concentrate in.
	KindAttribute
	// KindLog is a log template whose rate changed on the traces.
	KindLog
	// KindMetric is a metric series of an involved service that moved.
	KindMetric
)

// String is the kind's name in the API and the table.
func (k Kind) String() string {
	switch k {
	case KindLatency:
		return "latency"
	case KindErrors:
		return "errors"
	case KindAttribute:
		return "attribute"
	case KindLog:
		return "log"
	case KindMetric:
		return "metric"
	default:
		return "unknown"
	}
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(text []byte) error {
	for c := KindLatency; c <= KindMetric; c++ {
		if c.String() == string(text) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("diagnose: unknown candidate kind %q", text)
}

// Window is what the entry spans did in one window.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Spans is the number of entry spans.
	Spans int64 `json:"spans"`
	// PerMinute is Spans per minute of the window.
	PerMinute float64 `json:"per_minute"`
	MeanMs    float64 `json:"mean_ms"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	Errors    int64   `json:"errors"`
	// ErrorRate is Errors / Spans.
	ErrorRate float64 `json:"error_rate"`
}

// Candidate is one possible cause with its evidence.
type Candidate struct {
	Rank int  `json:"rank"`
	Kind Kind `json:"kind"`
	// Score orders the candidates; docs/diagnose.md gives its formula per kind.
	Score float64 `json:"score"`
	// Service is where the cause is (the diagnosed service for its entry
	// attributes).
	Service string `json:"service"`
	// Operation is the operation of a latency or errors candidate.
	Operation string `json:"operation,omitempty"`
	// Key and Value are an attribute candidate's attribute.
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
	// Level and Template are a log candidate's.
	Level    string `json:"level,omitempty"`
	Template string `json:"template,omitempty"`
	// Metric is a metric candidate's metric name.
	Metric string `json:"metric,omitempty"`
	// Share is the candidate's share of the change named by ShareOf: of the
	// mean latency increase of the entry spans ("latency"), of the growth of
	// own errors per trace ("errors"), or of the traffic growth ("traffic").
	Share   float64 `json:"share"`
	ShareOf string  `json:"share_of"`
	// Baseline and Incident are the figure the candidate moved, in each
	// window, in Unit.
	Baseline float64 `json:"baseline"`
	Incident float64 `json:"incident"`
	Unit     string  `json:"unit"`
	// Evidence says what moved, in words.
	Evidence string `json:"evidence"`
	// TraceIDs are slow or failing incident traces the candidate is on.
	TraceIDs []string `json:"trace_ids"`
	// LogLines are lines the candidate's service wrote on them.
	LogLines []string `json:"log_lines"`
}

// Subject names the candidate in one string, the same for the same cause
// in any report: "latency inventory SELECT order_items",
// "attribute payment k8s.pod.name=payment-2", "log orders ERROR pool <n>",
// "metric orders process.cpu.utilization".
func (c Candidate) Subject() string {
	switch c.Kind {
	case KindLatency, KindErrors:
		return c.Kind.String() + " " + c.Service + " " + c.Operation
	case KindAttribute:
		return c.Kind.String() + " " + c.Service + " " + c.Key + "=" + c.Value
	case KindLog:
		return c.Kind.String() + " " + c.Service + " " + c.Level + " " + c.Template
	case KindMetric:
		return c.Kind.String() + " " + c.Service + " " + c.Metric
	default:
		return c.Kind.String()
	}
}

// Report is a diagnosis.
type Report struct {
	Service   string `json:"service"`
	Operation string `json:"operation,omitempty"`
	Baseline  Window `json:"baseline"`
	Incident  Window `json:"incident"`
	// Change says what changed between the windows, in words.
	Change     string      `json:"change"`
	Candidates []Candidate `json:"candidates"`
	// Queries are the FusionQL queries the diagnosis ran, in order.
	Queries []string `json:"queries"`
	// Notes say where the answer is partial (a capped query).
	Notes []string `json:"notes,omitempty"`
}

// WriteTable prints the report for people: the change, then one line per
// candidate, then each candidate's examples.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	subject := r.Service
	if r.Operation != "" {
		subject += " " + r.Operation
	}
	fmt.Fprintf(&b, "diagnosis of %s: incident %s – %s against baseline %s – %s\n", subject,
		r.Incident.Start.UTC().Format(time.RFC3339), r.Incident.End.UTC().Format(time.RFC3339),
		r.Baseline.Start.UTC().Format(time.RFC3339), r.Baseline.End.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\tspans\tper min\tP50 ms\tP99 ms\tmean ms\terror rate\t")
	for _, win := range []struct {
		name string
		w    Window
	}{{"baseline", r.Baseline}, {"incident", r.Incident}} {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.1f\t%.1f\t%.1f\t%.2f%%\t\n", win.name, win.w.Spans, win.w.PerMinute,
			win.w.P50Ms, win.w.P99Ms, win.w.MeanMs, 100*win.w.ErrorRate)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "change: %s\n\n", r.Change)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tscore\tshare\tkind\tcause\tevidence")
	for _, c := range r.Candidates {
		fmt.Fprintf(tw, "%d\t%.2f\t%.0f%% %s\t%s\t%s\t%s\n", c.Rank, c.Score, 100*c.Share, c.ShareOf, c.Kind,
			strings.TrimPrefix(c.Subject(), c.Kind.String()+" "), c.Evidence)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Candidates) == 0 {
		b.WriteString("(no candidate: nothing moved enough)\n")
	}
	for _, c := range r.Candidates {
		if len(c.TraceIDs) == 0 && len(c.LogLines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n#%d %s\n", c.Rank, c.Subject())
		for _, id := range c.TraceIDs {
			fmt.Fprintf(&b, "  trace %s\n", id)
		}
		for _, line := range c.LogLines {
			fmt.Fprintf(&b, "  log   %s\n", line)
		}
	}
	for _, note := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteQueries prints the FusionQL queries the diagnosis ran, one per
// paragraph.
func (r *Report) WriteQueries(w io.Writer) error {
	var b strings.Builder
	for i, q := range r.Queries {
		fmt.Fprintf(&b, "-- query %d\n%s;\n\n", i+1, q)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
