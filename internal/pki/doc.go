// Package pki is the scheme's public-key infrastructure: the root CA the Directory Server operates,
// the certificates it issues to the components of the network, and the tls.Config every role uses on
// its mutual-TLS links.
//
// # What a PKI directory holds
//
// Init writes a root CA and one certificate of each kind the demo network needs; Paths describes
// where each file lives so that no other package spells a file name. Certificates are PEM files
// ending in .crt (mode 0644); private keys are PKCS #8 PEM files ending in .key (mode 0600), in a
// directory Init creates with mode 0700.
//
//   - ca.crt, ca.key: the scheme root, ECDSA P-256, ten years. It signs every other certificate
//     directly and may not sign another CA (path length zero). P-256 rather than P-384 because a chain
//     is only as strong as its weakest key and every leaf is P-256 (ES256 is what the protocol uses);
//     it also keeps each handshake's chain verification cheap.
//   - ds.crt, acs.crt, 3dss.crt: one TLS certificate per component, ECDSA P-256.
//   - acs-signing.crt: the ACS content-signing certificate for the acsSignedContent JWS.
//   - ds-encryption-rsa.crt, ds-encryption-ec.crt: the DS keys that SDKs encrypt sdkEncData to.
//
// # One certificate per component, for both directions
//
// Every role is a TLS server and a TLS client: the 3DS Server calls the DS and serves RReq, the DS
// calls the ACS and the 3DS Server, the ACS serves AReq and calls the DS. Each component therefore gets
// one certificate carrying both the serverAuth and the clientAuth extended key usage, used for its
// listener and for its outgoing calls. An operator configures one certificate and one key per
// component, and the component's identity is the same whichever side of a connection it is on. Split
// certificates would double the files to deploy and renew without separating anything that matters:
// both would sit on the same host, in the same process, guarded the same way.
//
// # How a certificate names its component
//
// The identity of a component is a URI subject alternative name,
//
//	urn:open3ds:<role>:<name>             e.g. urn:open3ds:acs:bank-a
//	urn:open3ds:operator:<operator id>    optional, e.g. urn:open3ds:operator:ACSOP0001
//
// where role is ds, acs or 3dss, name is the component's name in the scheme's registry and the
// operator id is the identifier the scheme assigned (acsOperatorID or threeDSServerOperatorID; for
// the DS, its RID). Identify reads exactly these, and refuses a certificate with no role URI, with two,
// or with any other urn:open3ds URI it does not understand. A SAN is used rather than the subject's CN
// and OU because SANs are typed, each value stands alone, and TLS libraries treat them as the
// certificate's names, while the subject is free text that tools display, re-encode and compare in
// different ways. The subject still says O = scheme, OU = role, CN = name, for people reading the
// certificate; nothing trusts it. Names and operator ids use only letters, digits, '.', '_' and '-',
// so a URI needs no escaping and reads back exactly as it was issued.
//
// # Certificates that are not for TLS
//
// The content-signing and encryption certificates carry no host names and no identity URI, and no
// extended key usage at all, because SDKs verify them with generic chain validation and an extended
// key usage they do not expect could make them refuse the chain. A verifier that sees no extended key
// usage treats a certificate as valid for any purpose, so the tls.Config builders here require the
// peer's certificate to list serverAuth or clientAuth explicitly: a signing certificate whose key
// leaked still cannot open a mutual-TLS connection.
package pki
