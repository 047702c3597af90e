// Package diagnose ranks the likely causes of a change in one service's
// latency or error rate, from its traces, logs and metrics together.
//
// Diagnose compares an incident window with the baseline before it: it
// measures the change of the service's entry spans (P50, P99, mean, error
// rate, traffic), then runs a handful of FusionQL queries on the fusion
// store and scores candidate causes: downstream operations whose self time
// grew on the service's traces, attribute values (pod, host, version, db
// statement) that carry the growth, operations whose own errors grew,
// traffic surges of one route or tenant, log templates that appeared on the
// slow or failing spans, and metric series of the services involved that
// moved. Every query it runs is FusionQL, scoped to the caller's tenant by
// the store, and is returned in Report.Queries. docs/diagnose.md describes
// the scores.
package diagnose
