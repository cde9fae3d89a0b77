package adoptionclient_test

// A second adoptiond serving TLS with a certificate made here and requiring
// a bearer token (--tls-cert, --tls-key, --token-file).

import (
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

	"google.golang.org/grpc/codes"

	ac "adoptionclient"
)

// selfSigned returns a PEM certificate for 127.0.0.1 and localhost, and its
// PEM private key.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "adoptiond test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}

func TestTLSAndToken(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	const token = "go-client-test-token"
	files := map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM, "token": []byte(token + "\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr, stop, err := startServer(dir, "--tls-cert", filepath.Join(dir, "cert.pem"),
		"--tls-key", filepath.Join(dir, "key.pem"), "--token-file", filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop) // runs after the clients' Close (cleanups run last-in first-out)

	call := func(opts ac.Options) error {
		c := dialTo(t, addr, opts)
		_, err := c.ListFitters(testContext(t))
		return err
	}
	if err := call(ac.Options{TLSRootCertPEM: certPEM, Token: token}); err != nil {
		t.Fatalf("TLS with the token: %v", err)
	}
	// The same through a tls.Config, naming the certificate's DNS name.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	if err := call(ac.Options{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, Token: token}); err != nil {
		t.Fatalf("TLSConfig with the token: %v", err)
	}
	if err := call(ac.Options{TLSRootCertPEM: certPEM}); ac.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v, want Unauthenticated", err)
	}
	if err := call(ac.Options{TLSRootCertPEM: certPEM, Token: "wrong"}); ac.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: %v, want Unauthenticated", err)
	}
	// A client that does not trust the certificate, or speaks plaintext,
	// never reaches the service.
	other, _ := selfSigned(t)
	if err := call(ac.Options{TLSRootCertPEM: other, Token: token}); ac.Code(err) != codes.Unavailable {
		t.Errorf("untrusted certificate: %v, want Unavailable", err)
	}
	if err := call(ac.Options{Token: token, AllowInsecureToken: true}); ac.Code(err) != codes.Unavailable {
		t.Errorf("plaintext to a TLS server: %v, want Unavailable", err)
	}
}
