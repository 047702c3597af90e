//go:build !race

package fusionprocessor

const raceEnabled = false
