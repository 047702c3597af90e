// Command fusionql runs a FusionQL query against the query API of an
// otelcol-fusion that holds a fusion store (the fusionstore extension), and prints the answer.
//
//	fusionql [--endpoint http://127.0.0.1:4320] [--tenant T] [--token TOKEN] [--format table|json|csv] 'SELECT ...'
//
// Without a query argument (or with "-") the query is read from stdin. The
// table format prints the columns aligned, numbers to the right, NULL for
// null, and the row count; json and csv print the API's answer as it is.
//
// The query API scopes every query to one tenant. fusionql names tenant
// "default" (where the default config files data sent without a tenant)
// unless --tenant or FUSIONQL_TENANT names another; with --token (or
// FUSIONQL_TOKEN), sent as "Authorization: Bearer", and no tenant named, it
// sends no tenant header: a tenant's credential decides its tenant and an
// admin's sees every tenant. --tenant "" never sends the header.
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
	tenantFlag := flags.String("tenant", defaultTenant, "tenant to scope the query to (env FUSIONQL_TENANT); with --token and no tenant named, none: the credential decides")
	tenantHeader := flags.String("tenant-header", "X-Tenant-ID", "header the tenant is sent in (the fusionstore extension's query::tenant_header)")
	tokenFlag := flags.String("token", "", "bearer token sent as 'Authorization: Bearer' (env FUSIONQL_TOKEN)")
	format := flags.String("format", "table", "output: table, json or csv")
	timeout := flags.Duration("timeout", 2*time.Minute, "give up waiting for the answer after this long")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: fusionql [flags] 'SELECT ...'   (or the query on stdin)")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	token := *tokenFlag
	if !flagSet(flags, "token") {
		token = os.Getenv("FUSIONQL_TOKEN")
	}
	tenant := *tenantFlag
	if !flagSet(flags, "tenant") {
		if env, ok := os.LookupEnv("FUSIONQL_TENANT"); ok {
			tenant = env
		} else if token != "" {
			tenant = ""
		}
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
	client := &queryClient{endpoint: *endpoint, tenant: tenant, tenantHeader: *tenantHeader, token: token}
	if err := client.printQuery(ctx, query, *format, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// defaultTenant is the tenant the server files data under when the request
// names none (the default config's receiver 'tenant::default_tenant').
const defaultTenant = "default"

// flagSet reports whether name was given on the command line.
func flagSet(flags *flag.FlagSet, name string) bool {
	set := false
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
