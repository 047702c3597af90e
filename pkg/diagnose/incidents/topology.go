package incidents

import (
	"fmt"
	"time"
)

// EntryService is the service every instance diagnoses: the order service
// of the seed's incident.
const EntryService = "orders"

// call is one operation of the shop and the calls it makes, in order.
type call struct {
	service   string
	operation string
	server    bool   // a SERVER span; else a CLIENT span to a database or an outside API
	statement string // db.statement of a database call
	// workMs is the operation's own time: a mean and a spread.
	workMs, spreadMs float64
	children         []*call
}

// route is one kind of request the entry service answers.
type route struct {
	route string
	root  *call
}

// remote is a server operation of another service behind the client span
// its caller makes to it.
func remote(service, operation string, workMs, spreadMs float64, children ...*call) *call {
	return &call{service: service, operation: operation, server: true, workMs: workMs, spreadMs: spreadMs, children: children}
}

func dbCall(service, operation, statement string, workMs, spreadMs float64) *call {
	return &call{service: service, operation: operation, statement: statement, workMs: workMs, spreadMs: spreadMs}
}

// shop builds the services behind the order service. Each call to another
// service is a CLIENT span of the caller with the callee's SERVER span
// under it (see generator.span).
func shop() []route {
	selectItems := func() *call {
		return dbCall("orders", "SELECT order_items", "SELECT * FROM order_items WHERE order_id = ?", 12, 4)
	}
	stock := func() *call {
		return remote("inventory", "GET /stock", 4, 1,
			dbCall("inventory", "SELECT stock", "SELECT quantity FROM stock WHERE sku = ?", 9, 3))
	}
	price := func() *call { return remote("pricing", "GET /price", 14, 4) }
	charge := func() *call {
		return remote("payment", "POST /charge", 6, 2,
			&call{service: "payment", operation: "gateway authorize", workMs: 45, spreadMs: 12})
	}
	profile := func() *call { return remote("users", "GET /users/{id}", 8, 2) }
	return []route{
		{"/orders", &call{service: EntryService, operation: "POST /orders", server: true, workMs: 10, spreadMs: 3,
			children: []*call{profile(), stock(), price(), charge(),
				dbCall("orders", "INSERT orders", "INSERT INTO orders VALUES (?, ?, ?)", 8, 2), selectItems()}}},
		{"/orders/{id}", &call{service: EntryService, operation: "GET /orders/{id}", server: true, workMs: 6, spreadMs: 2,
			children: []*call{selectItems(), price(), stock()}}},
		{"/users/{id}/orders", &call{service: EntryService, operation: "GET /users/{id}/orders", server: true, workMs: 5, spreadMs: 2,
			children: []*call{profile(), selectItems(), dbCall("orders", "SELECT orders", "SELECT * FROM orders WHERE user_id = ?", 10, 3)}}},
	}
}

// Services are the shop's services, the entry service first.
var Services = []string{EntryService, "inventory", "pricing", "payment", "users"}

// podsPerService and hosts: pod i of a service runs on host i % hosts.
const (
	podsPerService = 4
	hostCount      = 2
)

func podName(service string, i int) string { return fmt.Sprintf("%s-%d", service, i) }

func hostName(i int) string { return fmt.Sprintf("node-%d", i%hostCount) }

// Tenants are the app tenants (the app.tenant attribute of entry spans).
var Tenants = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka"}

// Timing of every instance.
const (
	// Window and Baseline are the windows each instance is diagnosed with.
	Window   = 10 * time.Minute
	Baseline = 30 * time.Minute
	// entriesPerMinute is the order service's traffic.
	entriesPerMinute = 8
	// metricInterval is how often each pod reports its metrics.
	metricInterval = 20 * time.Second
)
