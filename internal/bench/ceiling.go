package bench

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
)

// Ceiling is a bare HTTPS server that does the least a protocol endpoint can: it reads the request,
// decodes the JSON into a map and answers a small fixed ARes naming the transaction. Run against it,
// the same scenario over the same TLS shows what the machine, the client and the TLS set-up allow
// at all; the target's figures are read as a share of that.
type Ceiling struct {
	URL string // the target's URL with the ceiling's port
	srv *http.Server
}

// StartCeiling listens on a loopback port with tlsConfig (the target's certificate and client
// authentication) and serves at targetURL's path. The URL keeps targetURL's host name when it is
// loopback, so that the certificate the client checks still matches; another host is replaced by
// 127.0.0.1.
func StartCeiling(tlsConfig *tls.Config, targetURL string) (*Ceiling, error) {
	u, err := url.Parse(targetURL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		host = "127.0.0.1"
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	u.Host = net.JoinHostPort(host, port)
	c := &Ceiling{URL: u.String(), srv: &http.Server{Handler: http.HandlerFunc(echo), TLSConfig: tlsConfig}}
	// ServeTLS returns only when Close is called; the certificate is in tlsConfig.
	go c.srv.ServeTLS(ln, "", "")
	return c, nil
}

// Close stops the server.
func (c *Ceiling) Close() error { return c.srv.Close() }

// echo answers any request: the decoded AReq's threeDSServerTransID back in a fixed ARes.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var m map[string]any
	if err != nil || json.Unmarshal(body, &m) != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	id, _ := json.Marshal(m["threeDSServerTransID"])
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	io.WriteString(w, `{"messageType":"ARes","transStatus":"Y","threeDSServerTransID":`+string(id)+`}`)
}
