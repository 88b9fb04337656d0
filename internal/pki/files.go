package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// LoadKeyPair reads a certificate and its private key, as a TLS stack wants them, checking that they
// belong together. It refuses an expired certificate, so that a server fails at start rather than at
// every handshake. It reads the content-signing and DS encryption pairs as well: Leaf is then the
// certificate and PrivateKey an *rsa.PrivateKey or *ecdsa.PrivateKey.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %w", err)
	}
	// The errors of X509KeyPair describe the PEM structure, never the key's bytes.
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %s with %s: %w", certFile, keyFile, err)
	}
	if now := time.Now(); now.After(cert.Leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("pki: %s expired on %s", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return cert, nil
}

// LoadPool reads the trusted CA certificates in caFile (one or several, PEM) into a pool for
// ServerConfig's clientCAs or ClientConfig's rootCAs. A file holding no certificate is an error, since
// an empty pool would silently refuse every peer.
func LoadPool(caFile string) (*x509.CertPool, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("pki: %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseCert reads the first certificate of a PEM file; name is for error messages.
func parseCert(name string, data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("pki: %s holds no PEM certificate", name)
		}
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("pki: %s: %w", name, err)
			}
			return cert, nil
		}
	}
}

// parseKey reads a PKCS #8 private key, or a SEC 1 EC key as older openssl versions write them, so
// that an operator can bring a CA key made with openssl. The errors never quote the file's content.
func parseKey(name string, data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("pki: %s holds no PEM private key", name)
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pki: %s: cannot parse the private key: %w", name, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("pki: %s: a %T cannot sign", name, key)
		}
		return signer, nil
	}
}

// writeFile writes data to path with mode so that no reader ever sees a partial file: it writes a
// temporary file beside path and then moves it into place. When replace is false it links the file
// into place instead, which fails if path exists, so that two commands racing cannot overwrite each
// other's files. The temporary file is created with mode 0600 and only widened afterwards, so a key
// is never readable by others, even for a moment.
func writeFile(path string, data []byte, mode os.FileMode, replace bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if replace {
		if err = os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		return nil
	}
	if err = os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pki: %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("pki: %w", err)
	}
	os.Remove(tmp.Name())
	return nil
}

// existing returns those of paths that exist.
func existing(paths ...string) []string {
	var found []string
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			found = append(found, p)
		}
	}
	return found
}
