package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// dsSDKKeyItem splits one sdk_keys item, "[ID=]PREFIX", into its id (empty when not given) and
// its file prefix. A prefix rather than two paths keeps an item one token that a comma-separated
// environment variable can hold, and it is how `open3ds pki` names a certificate and its key.
func dsSDKKeyItem(item string) (id, prefix string) {
	if i := strings.Index(item, "="); i >= 0 {
		return strings.TrimSpace(item[:i]), strings.TrimSpace(item[i+1:])
	}
	return "", strings.TrimSpace(item)
}

// dsSDKKeys loads the DS's sdkEncData keys in the order given. A key without an id is named by
// sdkcrypto.KeyID of its certificate's public key, which an SDK vendor can work out from the
// certificate it bundles. Only RSA and P-256 keys will do, as those are the kinds SDKs encrypt to.
func dsSDKKeys(items []string) ([]sdkcrypto.DSKey, error) {
	var keys []sdkcrypto.DSKey
	seen := map[string]string{}
	for _, item := range items {
		id, prefix := dsSDKKeyItem(item)
		files := pki.PrefixPaths(prefix)
		kp, err := pki.LoadKeyPair(files.Cert, files.Key)
		if err != nil {
			return nil, fmt.Errorf("sdk_keys %s: %w", prefix, err)
		}
		leaf, err := x509.ParseCertificate(kp.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("sdk_keys %s: %w", prefix, err)
		}
		var signer crypto.Signer
		switch k := kp.PrivateKey.(type) {
		case *rsa.PrivateKey:
			signer = k
		case *ecdsa.PrivateKey:
			if k.Curve == elliptic.P256() {
				signer = k
			}
		}
		if signer == nil {
			return nil, fmt.Errorf("sdk_keys %s: an sdkEncData key must be RSA or EC P-256", prefix)
		}
		if id == "" {
			id = sdkcrypto.KeyID(leaf.RawSubjectPublicKeyInfo)
		}
		if other, dup := seen[id]; dup {
			return nil, fmt.Errorf("sdk_keys: %s and %s have the same id %s", other, prefix, id)
		}
		seen[id] = prefix
		keys = append(keys, sdkcrypto.DSKey{ID: id, Key: signer})
	}
	return keys, nil
}
