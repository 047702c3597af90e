package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded default config that `make run` starts: healthy on 13133 and
// stopped cleanly by SIGINT. Its store goes to a temp dir, not e2e/data.
func TestDefaultConfigStartsAndStopsOnSIGINT(t *testing.T) {
	t.Setenv("OTELFUSION_DATA_DIR", t.TempDir())
	p := startCollector(t, "default", "../distro/config.yaml", 13133)
	resp, err := http.Get("http://127.0.0.1:13133/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NoError(t, p.stop(), "a clean exit on SIGINT")
}
