package console

import (
	"encoding/base64"

	qrcode "github.com/skip2/go-qrcode"
)

// qrDataURL draws the otpauth address as a QR code, a PNG inline in the page (the console's CSP
// allows data: images), so that an authenticator app can scan it. The secret never leaves the page
// for a QR service. An address too long to draw gives "", and the page shows the secret as text only.
func qrDataURL(uri string) string {
	png, err := qrcode.Encode(uri, qrcode.Medium, 240)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
