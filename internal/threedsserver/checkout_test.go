package threedsserver_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestTheCheckoutScriptIsServedFromTheEmbeddedFileWithCachingHeaders(t *testing.T) {
	want, err := os.ReadFile("static/checkout.js")
	must(t, err)
	// Every merchant's checkout page loads it: 16 KB, with its comments, is about 6 KB gzipped.
	if len(want) >= 16<<10 {
		t.Errorf("checkout.js is %d bytes; it must stay under 16 KB", len(want))
	}
	h := threedsserver.NewServer(threedsserver.Config{Store: emptyStore{}}).PublicHandler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/checkout.js", nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("GET /checkout.js: HTTP %d, %d bytes; want 200 and the %d bytes of static/checkout.js", rec.Code, rec.Body.Len(), len(want))
	}
	hd := rec.Header()
	if hd.Get("Content-Type") != "text/javascript; charset=utf-8" || hd.Get("Cache-Control") != "public, max-age=300" || hd.Get("ETag") == "" {
		t.Fatalf("headers %v: want JavaScript, five minutes' public caching and an ETag", hd)
	}
	again := httptest.NewRequest("GET", "/checkout.js", nil)
	again.Header.Set("If-None-Match", hd.Get("ETag"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, again)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("a revalidation with the ETag answered HTTP %d with %d bytes; want 304 and no body", rec.Code, rec.Body.Len())
	}
}
