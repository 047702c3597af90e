package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/otelfusion/otelfusion/pkg/diagnose"
)

// diagnosePath is the diagnosis API's path on the collector.
const diagnosePath = "/v1/diagnose"

// runDiagnose is `fusionql diagnose`; it returns the exit status: 0 on
// success, 1 when the diagnosis failed, 2 for a usage error.
func runDiagnose(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("fusionql diagnose", flag.ContinueOnError)
	flags.SetOutput(stderr)
	conn := addConnectionFlags(flags)
	service := flags.String("service", "", "the service whose latency or errors changed (required)")
	operation := flags.String("operation", "", "only this operation of the service's entry spans")
	window := flags.Duration("window", diagnose.DefaultWindow, "the incident window, before --end")
	baseline := flags.Duration("baseline", diagnose.DefaultBaseline, "the baseline, before the incident window")
	end := flags.String("end", "", "end of the incident window: RFC 3339 or Unix nanoseconds (default now)")
	limit := flags.Int("limit", 10, "candidates to list")
	explain := flags.Bool("explain", false, "print the FusionQL queries the diagnosis ran before the table (the JSON always holds them)")
	format := flags.String("format", "table", "output: table or json")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: fusionql diagnose --service S [--operation O] [--window 15m] [--baseline 1h] [--end T] [--explain]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *service == "" || flags.NArg() > 0 {
		fmt.Fprintln(stderr, "fusionql diagnose: --service is required and no arguments are taken")
		flags.Usage()
		return 2
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "fusionql diagnose: --format must be table or json, got %q\n", *format)
		return 2
	}
	if *end != "" {
		if _, err := strconv.ParseInt(*end, 10, 64); err != nil {
			if _, err := time.Parse(time.RFC3339Nano, *end); err != nil {
				fmt.Fprintf(stderr, "fusionql diagnose: --end must be RFC 3339 or Unix nanoseconds, got %q\n", *end)
				return 2
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *conn.timeout)
	defer cancel()
	request := map[string]any{"service": *service, "operation": *operation, "window": window.String(),
		"baseline": baseline.String(), "end": *end, "limit": *limit}
	if err := printDiagnosis(ctx, conn.client(flags), request, *format, *explain, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func printDiagnosis(ctx context.Context, client *queryClient, request map[string]any, format string, explain bool, out io.Writer) error {
	resp, err := client.postJSON(ctx, diagnosePath, request)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("fusionql: reading the diagnosis: %w", err)
	}
	var report diagnose.Report
	if err := json.Unmarshal(data, &report); err != nil {
		return fmt.Errorf("fusionql: reading the diagnosis: %w", err)
	}
	if format == "json" {
		// The JSON holds the queries already.
		_, err := out.Write(data)
		return err
	}
	if explain {
		if err := report.WriteQueries(out); err != nil {
			return err
		}
	}
	return report.WriteTable(out)
}
