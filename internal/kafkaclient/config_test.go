package kafkaclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "brokers only", cfg: Config{Brokers: []string{"k:9092"}}},
		{name: "no brokers", cfg: Config{}, want: "'kafka::brokers' must list at least one broker"},
		{name: "empty broker", cfg: Config{Brokers: []string{"k:9092", ""}}, want: "'kafka::brokers' entry 1 is empty"},
		{
			name: "sasl incomplete",
			cfg:  Config{Brokers: []string{"k:9092"}, SASL: configoptional.Some(SASLConfig{Mechanism: "OAUTHBEARER"})},
			want: `'kafka::sasl::mechanism' must be "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512", got "OAUTHBEARER"` +
				"\n'kafka::sasl::username' must be set\n'kafka::sasl::password' must be set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate("kafka::")
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}

// ping connects with cfg's options and asks the cluster for its brokers.
func ping(t *testing.T, cfg *Config) error {
	t.Helper()
	opts, err := cfg.Options(context.Background(), zap.NewNop())
	require.NoError(t, err)
	cl, err := kgo.NewClient(append(opts, kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))...)
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func TestSASLAgainstACluster(t *testing.T) {
	for _, mechanism := range []SASLMechanism{SASLPlain, SASLScramSHA256, SASLScramSHA512} {
		t.Run(string(mechanism), func(t *testing.T) {
			cluster := kfake.MustCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(string(mechanism), "agent", "right"))
			defer cluster.Close()
			cfg := &Config{Brokers: cluster.ListenAddrs(), SASL: configoptional.Some(SASLConfig{Mechanism: mechanism, Username: "agent", Password: "right"})}
			require.NoError(t, ping(t, cfg))
			cfg.SASL.Get().Password = "wrong"
			require.Error(t, ping(t, cfg))
		})
	}
}

func TestTLSAgainstACluster(t *testing.T) {
	caPEM, serverCert := selfSigned(t)
	cluster := kfake.MustCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}}))
	defer cluster.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, caPEM, 0o600))

	trusted := &Config{Brokers: cluster.ListenAddrs(),
		TLS: configoptional.Some(configtls.ClientConfig{Config: configtls.Config{CAFile: caFile}})}
	require.NoError(t, ping(t, trusted))

	untrusted := &Config{Brokers: cluster.ListenAddrs(), TLS: configoptional.Some(configtls.ClientConfig{})}
	require.Error(t, ping(t, untrusted), "the server's certificate is not in the system roots")

	missing := &Config{Brokers: cluster.ListenAddrs(),
		TLS: configoptional.Some(configtls.ClientConfig{Config: configtls.Config{CAFile: filepath.Join(t.TempDir(), "none.pem")}})}
	_, err := missing.Options(context.Background(), zap.NewNop())
	require.ErrorContains(t, err, "kafka: loading TLS settings")
}

// selfSigned returns a CA-less self-signed certificate for 127.0.0.1, as
// PEM and as a tls.Certificate.
func selfSigned(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	require.NoError(t, err)
	return certPEM, pair
}
