package pki

import (
	"path/filepath"
	"strings"
)

// FilePair is a certificate file and the file holding its private key.
type FilePair struct {
	Cert string // PEM certificate, mode 0644
	Key  string // PEM PKCS #8 private key, mode 0600
}

// Layout says where each file of a PKI directory lives. Other packages take their paths from it
// rather than joining file names of their own, so that the layout can change in one place.
type Layout struct {
	Dir string

	CA FilePair // the scheme root

	// The TLS certificates Init issues, one per component.
	DS            FilePair
	ACS           FilePair
	ThreeDSServer FilePair

	ACSSigning      FilePair // the ACS content-signing certificate (acsSignedContent)
	DSEncryptionRSA FilePair // the DS RSA key SDKs encrypt sdkEncData to
	DSEncryptionEC  FilePair // the DS P-256 key SDKs encrypt sdkEncData to
}

// Paths gives the layout of the PKI directory dir.
func Paths(dir string) Layout {
	pair := func(base string) FilePair { return PrefixPaths(filepath.Join(dir, base)) }
	return Layout{
		Dir:             dir,
		CA:              pair("ca"),
		DS:              pair(string(RoleDS)),
		ACS:             pair(string(RoleACS)),
		ThreeDSServer:   pair(string(RoleThreeDSServer)),
		ACSSigning:      pair("acs-signing"),
		DSEncryptionRSA: pair("ds-encryption-rsa"),
		DSEncryptionEC:  pair("ds-encryption-ec"),
	}
}

// TLS gives the files of the TLS certificate Init issues for role.
func (l Layout) TLS(role Role) FilePair {
	switch role {
	case RoleDS:
		return l.DS
	case RoleACS:
		return l.ACS
	case RoleThreeDSServer:
		return l.ThreeDSServer
	}
	return FilePair{}
}

// Component gives where `open3ds pki issue` writes a further certificate for the component name of
// role when the operator names no other place: "<dir>/<role>-<name>.crt" and ".key". The role is part
// of the file name because names are unique only within a role.
func (l Layout) Component(role Role, name string) FilePair {
	return PrefixPaths(filepath.Join(l.Dir, string(role)+"-"+name))
}

// PrefixPaths gives the pair of files "<prefix>.crt" and "<prefix>.key".
func PrefixPaths(prefix string) FilePair {
	return FilePair{Cert: prefix + ".crt", Key: prefix + ".key"}
}

// Prefix is the path both files of a pair share, the inverse of PrefixPaths: what settings that
// name a key pair by one path (serve ds --sdk-key) take.
func (fp FilePair) Prefix() string { return strings.TrimSuffix(fp.Cert, ".crt") }

// all lists every pair Init writes, the CA first.
func (l Layout) all() []FilePair {
	return []FilePair{l.CA, l.DS, l.ACS, l.ThreeDSServer, l.ACSSigning, l.DSEncryptionRSA, l.DSEncryptionEC}
}
