package raftwal

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
)

// selfSignedCert writes a self-signed CA-and-leaf certificate for 127.0.0.1
// and its key into dir, returning their paths.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "raftwal-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

// TestClusterOverMutualTLS runs three nodes whose Raft traffic is mTLS and
// checks that writes replicate.
func TestClusterOverMutualTLS(t *testing.T) {
	certFile, keyFile := selfSignedCert(t, t.TempDir())
	addrs := loopbackAddrs(t, 3)
	var peers []PeerConfig
	for i, a := range addrs {
		peers = append(peers, PeerConfig{ID: fmt.Sprintf("n%d", i), Address: a})
	}
	c := &testCluster{}
	for i := range addrs {
		cfg := fastConfig(t.TempDir(), peers[i].ID)
		cfg.HeartbeatTimeout, cfg.ElectionTimeout = 200*time.Millisecond, 200*time.Millisecond
		cfg.BindAddress, cfg.Peers = addrs[i], peers
		tlsCfg := cfg.TLS.GetOrInsertDefault()
		tlsCfg.Server = configtls.ServerConfig{Config: configtls.Config{CertFile: certFile, KeyFile: keyFile}, ClientCAFile: certFile}
		tlsCfg.Client = configtls.ClientConfig{Config: configtls.Config{CAFile: certFile, CertFile: certFile, KeyFile: keyFile}}
		c.cfgs = append(c.cfgs, cfg)
		c.exts = append(c.exts, startExtension(t, cfg, nil))
	}
	lead := c.leader(t, 10*time.Second)
	require.NoError(t, getClient(t, c.exts[lead], "q").Set(context.Background(), "k", []byte("over tls")))
	key := keyPrefix(component.KindExporter, exporterID, "q") + "k"
	for i, e := range c.exts {
		require.Eventually(t, func() bool { return string(e.node.fsm.get(key)) == "over tls" }, 5*time.Second, 10*time.Millisecond, "n%d", i)
	}

	// A peer without a client certificate is refused.
	plain := &tcpStream{dialTLS: nil}
	conn, err := plain.Dial(raft.ServerAddress(addrs[lead]), time.Second)
	if err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = conn.Write([]byte("not a TLS handshake\n"))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	require.Error(t, err, "plain TCP is not accepted")
}
