// Command fusionql runs a FusionQL query against the query API of an
// otelcol-fusion that holds a fusion store (the fusionstore extension), and prints the answer.
//
//	fusionql [--endpoint http://127.0.0.1:4320] [--tenant T] [--token TOKEN] [--format table|json|csv] 'SELECT ...'
//	fusionql diagnose --service S [--operation O] [--window 15m] [--baseline 1h] [--end T] [--explain] [--format table|json]
//
// The diagnose command asks the diagnosis API (POST /v1/diagnose) which
// causes explain a change of the service's latency or errors and prints
// them as a table (docs/diagnose.md); --explain prints the FusionQL
// queries the diagnosis ran.
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
	if len(args) > 0 && args[0] == "diagnose" {
		return runDiagnose(args[1:], stdout, stderr)
	}
	flags := flag.NewFlagSet("fusionql", flag.ContinueOnError)
	flags.SetOutput(stderr)
	conn := addConnectionFlags(flags)
	format := flags.String("format", "table", "output: table, json or csv")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: fusionql [flags] 'SELECT ...'   (or the query on stdin)")
		fmt.Fprintln(stderr, "       fusionql diagnose --service S [flags]   (fusionql diagnose -h)")
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
	ctx, cancel := context.WithTimeout(ctx, *conn.timeout)
	defer cancel()
	if err := conn.client(flags).printQuery(ctx, query, *format, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// connectionFlags are the flags that say where the API is and who asks.
type connectionFlags struct {
	endpoint, tenant, tenantHeader, token *string
	timeout                               *time.Duration
}

func addConnectionFlags(flags *flag.FlagSet) connectionFlags {
	return connectionFlags{
		endpoint:     flags.String("endpoint", envOr("FUSIONQL_ENDPOINT", "http://127.0.0.1:4320"), "query API base URL (env FUSIONQL_ENDPOINT)"),
		tenant:       flags.String("tenant", defaultTenant, "tenant to scope the query to (env FUSIONQL_TENANT); with --token and no tenant named, none: the credential decides"),
		tenantHeader: flags.String("tenant-header", "X-Tenant-ID", "header the tenant is sent in (the fusionstore extension's query::tenant_header)"),
		token:        flags.String("token", "", "bearer token sent as 'Authorization: Bearer' (env FUSIONQL_TOKEN)"),
		timeout:      flags.Duration("timeout", 2*time.Minute, "give up waiting for the answer after this long"),
	}
}

// client is the API client the parsed flags describe: the token from
// --token or FUSIONQL_TOKEN, the tenant from --tenant, FUSIONQL_TENANT, or
// "default" unless a token names none.
func (c connectionFlags) client(flags *flag.FlagSet) *queryClient {
	token := *c.token
	if !flagSet(flags, "token") {
		token = os.Getenv("FUSIONQL_TOKEN")
	}
	tenant := *c.tenant
	if !flagSet(flags, "tenant") {
		if env, ok := os.LookupEnv("FUSIONQL_TENANT"); ok {
			tenant = env
		} else if token != "" {
			tenant = ""
		}
	}
	return &queryClient{endpoint: *c.endpoint, tenant: tenant, tenantHeader: *c.tenantHeader, token: token}
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
