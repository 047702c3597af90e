//go:build race

package otlpgo

// raceEnabled: the race detector changes what small allocations take.
const raceEnabled = true
