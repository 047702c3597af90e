// Command fusionql runs a FusionQL query against the query API of an
// otelcol-fusion that holds a fused store, and prints the answer.
//
//	fusionql [--endpoint http://127.0.0.1:4320] [--tenant T] [--format table|json|csv] 'SELECT ...'
//
// Without a query argument (or with "-") the query is read from stdin. The
// table format prints the columns aligned, numbers to the right, NULL for
// null, and the row count; json and csv print the API's answer as it is.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status: 0 on success, 1 when
// the query failed, 2 for a usage error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("fusionql", flag.ContinueOnError)
	flags.SetOutput(stderr)
	endpoint := flags.String("endpoint", envOr("FUSIONQL_ENDPOINT", "http://127.0.0.1:4320"), "query API base URL (env FUSIONQL_ENDPOINT)")
	tenant := flags.String("tenant", os.Getenv("FUSIONQL_TENANT"), "tenant to scope the query to (env FUSIONQL_TENANT)")
	tenantHeader := flags.String("tenant-header", "X-Tenant-ID", "header the tenant is sent in (the server's store::query::tenant_header)")
	format := flags.String("format", "table", "output: table, json or csv")
	timeout := flags.Duration("timeout", 2*time.Minute, "give up waiting for the answer after this long")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: fusionql [flags] 'SELECT ...'   (or the query on stdin)")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		fmt.Fprintf(stderr, "fusionql: --format must be table, json or csv, got %q\n", *format)
		return 2
	}
	query := strings.Join(flags.Args(), " ")
	if query == "" || query == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "fusionql: reading the query from stdin:", err)
			return 2
		}
		query = string(data)
	}
	if strings.TrimSpace(query) == "" {
		flags.Usage()
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &queryClient{endpoint: *endpoint, tenant: *tenant, tenantHeader: *tenantHeader}
	if err := client.printQuery(ctx, query, *format, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
