//go:build race

package fusionprocessor

const raceEnabled = true
