// Package ids makes the transaction identifiers open3ds assigns (acsTransID, dsTransID,
// threeDSServerTransID, exchange records).
//
// They are time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, then 74 random
// bits. The protocol asks for the canonical 8-4-4-4-12 form of RFC 4122 (PROTOCOL.md §1.2), which
// these have; peers check the form, not the version. Ordered by time, the identifiers of one
// moment land side by side in every index keyed by them, so a commit of many new transactions
// writes a few index pages instead of one page per row (BENCHMARKS.md: the ACS's log volume). The
// cost is that an identifier shows the millisecond it was made, which every party that sees it
// knows anyway.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// New returns a fresh version-7 UUID in canonical lower-case form.
func New() string { return at(time.Now()) }

func at(t time.Time) string {
	var b [16]byte
	rand.Read(b[6:]) // Since Go 1.24 it never returns an error: it crashes the program instead.
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(b[:6], ms[2:])
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // RFC variant
	return Format(b)
}

// Format writes 16 bytes in the canonical lower-case 8-4-4-4-12 form.
func Format(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// maxDigitRun is one less than the shortest card number (13 digits): the logs and the audit log
// mask any longer run of digits as a possible PAN (logx.RedactText), so an identifier must not
// contain one or it would be shown mangled there.
const maxDigitRun = 12

// Token returns n random bytes in lower-case hex with no run of more than 12 decimal digits, for the
// identifiers that are not transaction ids (cardholder ids, message ids, page tokens). About one in
// forty random 24-character hex strings holds a 13-digit run; such a draw is thrown away.
func Token(n int) string {
	b := make([]byte, n)
	for {
		_, _ = rand.Read(b)
		s := hex.EncodeToString(b)
		if longestDigitRun(s) <= maxDigitRun {
			return s
		}
	}
}

func longestDigitRun(s string) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
