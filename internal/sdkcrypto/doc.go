// Package sdkcrypto is the cryptography of the app channel, between a 3DS SDK on the shopper's
// device, the Directory Server and the ACS:
//
//   - sdkEncData: the device information the SDK encrypts to the DS's key, as a compact JWE either
//     with RSA-OAEP-256 or with ECDH on P-256 and the EMV variant of the Concat KDF;
//   - acsSignedContent: the JWS (PS256 or ES256, x5c chain to the scheme CA) in which the ACS hands
//     the SDK its ephemeral key and acsURL;
//   - the challenge session: ECDH between the SDK's and the ACS's ephemeral keys, the same KDF with
//     the sdkReferenceNumber, and CReq / CRes as compact JWEs with alg "dir".
//
// It is written on the standard library rather than on a JOSE library because the parts that
// matter are not stock JOSE: the KDF leaves AlgorithmID and PartyUInfo empty and puts the DS id or
// the SDK reference number in PartyVInfo, SDKs label the EC sdkEncData "ECDH-ES" or "dir" with an
// epk, and A128GCM uses a different half of the session key per direction. A stock library would
// derive the wrong keys for all of these. What is standard (the A128CBC-HS256 and A128GCM content
// encryption of RFC 7518, RSA-OAEP-256, PS256, ES256) is checked in the tests against the npm
// "jose" package under Node, an implementation this project shares no code with.
//
// Every failure to read, verify or decrypt is ErrDecrypt (errors.Is), which the DS and the ACS
// answer with Erro 302; the wrapped text says what failed, for the log.
package sdkcrypto
