package diagnose

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTemplate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"order 81723 failed after 1.5s", "order <n> failed after <n>s"},
		{"request 9f8e7d6c5b4a3921 done", "request <id> done"},
		{"user 123e4567-e89b-12d3-a456-426614174000 logged in", "user <id> logged in"},
		{"upstream 10.0.3.7:8443 reset", "upstream <ip>:<n> reset"},
		{"GET /orders/{id} ok", "GET /orders/{id} ok"},
		{"cafe deadbeef", "cafe deadbeef"},
		{"connection pool exhausted (active=20, max=20, waiting=7): waited 300 ms for a connection",
			"connection pool exhausted (active=<n>, max=<n>, waiting=<n>): waited <n> ms for a connection"},
		{"", ""},
	} {
		assert.Equal(t, tc.want, Template(tc.in), tc.in)
	}
	long := strings.Repeat("x", 2000)
	assert.Equal(t, strings.Repeat("x", maxTemplateInput), Template(long))
}

// FuzzTemplate: any message masks without panicking, and masking a
// template again changes nothing.
func FuzzTemplate(f *testing.F) {
	f.Add("order 81723 failed after 1.5s")
	f.Add("user 123e4567-e89b-12d3-a456-426614174000")
	f.Add("\xff\x00 0x1f2e3d4c")
	f.Fuzz(func(t *testing.T, message string) {
		once := Template(message)
		if len(message) <= maxTemplateInput && Template(once) != once {
			t.Fatalf("Template(%q) = %q, masked again %q", message, once, Template(once))
		}
	})
}
