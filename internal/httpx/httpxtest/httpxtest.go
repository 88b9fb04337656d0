// Package httpxtest holds what tests of several packages need to watch a role's listeners while it
// drains. It is imported only by tests.
package httpxtest

import (
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// Readiness asks the admin listener at addr (host:port) for /readyz and returns its status and the
// word of its draining check.
func Readiness(addr string) (int, string, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var ans httpx.HealthAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return 0, "", err
	}
	return resp.StatusCode, ans.Checks["draining"], nil
}

// Refused reports whether nothing accepts connections at addr any more.
func Refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}
