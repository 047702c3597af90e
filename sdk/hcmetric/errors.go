package hcmetric

import "fmt"

func errNotIncreasing(name string) error {
	return fmt.Errorf("hcmetric: %s: bucket bounds are not increasing", name)
}
