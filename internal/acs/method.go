package acs

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/web"
)

// MethodData is what the 3DS Requestor posts to the threeDSMethodURL, decoded.
type MethodData struct {
	ThreeDSServerTransID string `json:"threeDSServerTransID"`
	NotificationURL      string `json:"threeDSMethodNotificationURL"`
}

var transIDPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// DecodeMethodData reads the threeDSMethodData form field: lenient base64url around JSON naming the
// transaction (a UUID) and an http(s) notification URL of at most 256 characters. Errors name the
// field at fault and never repeat the value.
func DecodeMethodData(field string) (MethodData, error) {
	var m MethodData
	raw, err := emv.DecodeBase64Lenient(field)
	if err != nil || len(raw) == 0 {
		return m, &FieldError{"threeDSMethodData", "is not base64url"}
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, &FieldError{"threeDSMethodData", "is not a JSON object"}
	}
	if !transIDPattern.MatchString(m.ThreeDSServerTransID) {
		return m, &FieldError{"threeDSServerTransID", "must be a UUID"}
	}
	if !webURL(m.NotificationURL, 256) {
		return m, &FieldError{"threeDSMethodNotificationURL", "must be an http(s) URL of at most 256 characters"}
	}
	return m, nil
}

// webURL reports whether s is an absolute http or https URL of at most max characters.
func webURL(s string, max int) bool {
	u, err := url.Parse(s)
	return err == nil && len(s) <= max && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// serveMethod answers the threeDSMethodURL. The device data the server can see (address, user agent,
// languages) is stored at once, so the AReq finds device data even when the page's script never
// runs; the script then adds the browser's own traits and posts the notification form.
//
// Without JavaScript no page can post a form by itself: HTML has no way to submit one without a
// script or a press, and a refresh or a link only makes a GET, while the notification must be a POST.
// So a browser without script sees a "Continue" button in a frame nobody sees, the requestor's
// 10-second rule runs out and the AReq says threeDSCompInd N, which is the truth. Only a 307 answer
// to the method POST itself makes the browser post at once, and it must be chosen before the ACS
// can know whether the browser runs scripts: with MethodRedirect every browser is sent straight on
// (the form is replayed, so the notification carries the same threeDSMethodData, which names the
// transaction as the notification's must), and the device data is what the server saw alone. The
// choice is the ACS operator's, not an issuer's, because the 3DS Method comes before the card is known.
func (b *Browser) serveMethod(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "The request could not be read."}
	}
	m, err := DecodeMethodData(r.PostForm.Get("threeDSMethodData"))
	if err != nil {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "The 3DS Method data is invalid.", Err: err}
	}
	server := map[string]any{"userAgent": r.UserAgent(), "acceptLanguage": r.Header.Get("Accept-Language"), "javaScript": false}
	data, _ := json.Marshal(server)
	d := DeviceData{ThreeDSServerTransID: m.ThreeDSServerTransID, IP: clientIP(r), Data: string(data),
		DeviceKey: hashKey(r.UserAgent() + "|" + r.Header.Get("Accept-Language"))}
	if err := b.Service.Store.SaveDeviceData(r.Context(), d); err != nil && !errors.Is(err, store.ErrConflict) {
		// The notification still goes out: the requestor must not wait for our storage trouble.
		b.Service.log().WarnContext(r.Context(), "3DS Method: storing device data", "threeDSServerTransID", m.ThreeDSServerTransID, "err", err)
	}
	if b.MethodRedirect {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, m.NotificationURL, http.StatusTemporaryRedirect)
		return nil
	}
	note, _ := json.Marshal(map[string]string{"threeDSServerTransID": m.ThreeDSServerTransID})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return web.Render(w, "method.html", map[string]string{"Base": b.Base, "NotificationURL": m.NotificationURL,
		"TransID": m.ThreeDSServerTransID, "Data": base64.RawURLEncoding.EncodeToString(note)})
}

// Traits is what the 3DS Method script reports of the browser: nothing else is kept.
type Traits struct {
	Screen      string `json:"screen"`
	ColorDepth  int    `json:"colorDepth"`
	TimeZone    string `json:"timeZone"`
	TZOffset    int    `json:"tzOffset"`
	Languages   string `json:"languages"`
	Platform    string `json:"platform"`
	JavaScript  bool   `json:"javaScript"`
	Fingerprint string `json:"fingerprint"`
}

var fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// DecodeTraits reads the script's report, keeping only the known fields and bounding their sizes.
func DecodeTraits(s string) (Traits, error) {
	var t Traits
	if len(s) > 2048 || json.Unmarshal([]byte(s), &t) != nil {
		return t, &FieldError{"traits", "is not a JSON object of browser traits"}
	}
	if len(t.Screen) > 32 || len(t.TimeZone) > 64 || len(t.Languages) > 256 || len(t.Platform) > 64 {
		return t, &FieldError{"traits", "has a value too long"}
	}
	if t.Fingerprint != "" && !fingerprintPattern.MatchString(t.Fingerprint) {
		return t, &FieldError{"traits.fingerprint", "must be a hex SHA-256"}
	}
	return t, nil
}

// serveMethodData takes the traits the method page's script posts and adds them to the transaction's
// device data. It answers 204 whatever happens to a well-formed report, so the page never waits.
func (b *Browser) serveMethodData(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return httpx.BadRequest("the form could not be read")
	}
	id := r.PostForm.Get("id")
	if !transIDPattern.MatchString(id) {
		return httpx.Invalid(httpx.FieldError{Field: "id", Detail: "must be a UUID"})
	}
	t, err := DecodeTraits(r.PostForm.Get("traits"))
	if err != nil {
		return httpx.Invalid(httpx.FieldError{Field: "traits", Detail: err.Error()})
	}
	t.JavaScript = true
	data, _ := json.Marshal(t)
	key := t.Fingerprint
	if key == "" {
		key = hashKey(t.Screen + "|" + t.TimeZone + "|" + t.Languages + "|" + t.Platform + "|" + r.UserAgent())
	}
	if err := b.Challenges.UpdateDeviceData(r.Context(), id, key[:32], string(data)); err != nil && !errors.Is(err, store.ErrNotFound) {
		b.Service.log().WarnContext(r.Context(), "3DS Method: storing browser traits", "threeDSServerTransID", id, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func hashKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
