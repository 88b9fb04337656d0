package smpp

import (
	"unicode/utf16"
)

// Data codings used by this package.
const (
	CodingDefault byte = 0x00 // the SMSC default alphabet, GSM 03.38 here
	CodingUCS2    byte = 0x08 // UCS-2 (UTF-16BE), needed for Japanese and most non-Latin text
)

// gsmBasic is the GSM 03.38 default alphabet in code order; 0x1B is the escape to the extension
// table and stands for itself nowhere.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension maps the characters reached through the escape to their second septet.
var gsmExtension = map[rune]byte{'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F, '[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65}

var (
	gsmEncode = map[rune]byte{}
	gsmDecode [128]rune
	gsmExtDec = map[byte]rune{}
)

func init() {
	i := 0
	for _, r := range gsmBasic {
		gsmDecode[i] = r
		if r != 0x1b {
			gsmEncode[r] = byte(i)
		}
		i++
	}
	if i != 128 {
		panic("smpp: the GSM 03.38 table must have 128 entries")
	}
	for r, b := range gsmExtension {
		gsmExtDec[b] = r
	}
}

// EncodeGSM7 encodes s in the GSM 03.38 default alphabet, one septet per octet (unpacked, as SMPP
// carries it with data_coding 0). ok is false when s has a character the alphabet lacks.
func EncodeGSM7(s string) (b []byte, ok bool) {
	b = make([]byte, 0, len(s))
	for _, r := range s {
		if c, found := gsmEncode[r]; found {
			b = append(b, c)
		} else if c, found := gsmExtension[r]; found {
			b = append(b, 0x1b, c)
		} else {
			return nil, false
		}
	}
	return b, true
}

// DecodeGSM7 decodes unpacked GSM 03.38 septets. An unknown escape sequence decodes as a space,
// as the standard asks of receivers.
func DecodeGSM7(b []byte) string {
	out := make([]rune, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i] & 0x7f
		if c == 0x1b && i+1 < len(b) {
			i++
			if r, ok := gsmExtDec[b[i]&0x7f]; ok {
				out = append(out, r)
			} else {
				out = append(out, ' ')
			}
			continue
		}
		out = append(out, gsmDecode[c])
	}
	return string(out)
}

// EncodeUCS2 encodes s as big-endian UTF-16, which is what SMSCs accept as UCS-2.
func EncodeUCS2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return b
}

// DecodeUCS2 decodes big-endian UTF-16; a trailing odd octet is dropped.
func DecodeUCS2(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}

// EncodeText picks the coding for s: the GSM default alphabet when every character is in it,
// UCS-2 otherwise.
func EncodeText(s string) (data []byte, coding byte) {
	if b, ok := EncodeGSM7(s); ok {
		return b, CodingDefault
	}
	return EncodeUCS2(s), CodingUCS2
}
