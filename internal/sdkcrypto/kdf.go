package sdkcrypto

import (
	"crypto/sha256"
	"encoding/binary"
)

// ConcatKDF derives the 32-byte key of the app channel from the ECDH shared secret z, as the EMV
// 3DS SDKs do it (NIST SP 800-56A Concat KDF, SHA-256, one round): OtherInfo is an empty AlgorithmID,
// an empty PartyUInfo, partyVInfo with its 4-byte big-endian length (the DS id for sdkEncData, the
// sdkReferenceNumber for the challenge session), and the key length in bits, 256. RFC 7518's
// ECDH-ES would put the enc name and apu/apv there instead, which is why this is not that.
func ConcatKDF(z []byte, partyVInfo string) []byte {
	h := sha256.New()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], 1) // the round counter
	h.Write(n[:])
	h.Write(z)
	binary.BigEndian.PutUint32(n[:], 0) // AlgorithmID: empty
	h.Write(n[:])
	h.Write(n[:]) // PartyUInfo: empty
	binary.BigEndian.PutUint32(n[:], uint32(len(partyVInfo)))
	h.Write(n[:])
	h.Write([]byte(partyVInfo))
	binary.BigEndian.PutUint32(n[:], 256) // SuppPubInfo: the key length in bits
	h.Write(n[:])
	return h.Sum(nil)
}
