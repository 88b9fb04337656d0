package httpx_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/httpx/httpxtest"
)

// drainRig is a protocol-like listener whose handler holds each request until released and then
// starts background work that holds until released too, and an admin listener with /readyz.
type drainRig struct {
	drain           *httpx.Drain
	proto, admin    string
	inside          chan struct{} // a request reached the handler
	release         chan struct{} // lets the request answer
	releaseWork     chan struct{} // lets the background work finish
	workEnded       chan error    // the background work's context error when it ended
	done            chan struct{} // closes when Serve returns, with its answer in err
	err             error
	cancel          context.CancelFunc
	log             *syncBuffer
	protoL, adminL  net.Listener
	requestFinished chan string
}

func startDrainRig(t *testing.T, delay, grace time.Duration) *drainRig {
	t.Helper()
	r := &drainRig{inside: make(chan struct{}, 1), release: make(chan struct{}), releaseWork: make(chan struct{}),
		workEnded: make(chan error, 1), done: make(chan struct{}), log: &syncBuffer{}, requestFinished: make(chan string, 1)}
	log := slog.New(slog.NewJSONHandler(r.log, nil))
	r.drain = &httpx.Drain{Delay: delay, Grace: grace, Log: log}
	proto := httpx.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.inside <- struct{}{}
		<-r.release
		// Work the request leaves behind: it must finish before Serve returns.
		r.drain.Go(req.Context(), "webhook", func(ctx context.Context) {
			select {
			case <-r.releaseWork:
				r.workEnded <- nil
			case <-ctx.Done():
				r.workEnded <- ctx.Err()
			}
		})
		io.WriteString(w, "answered")
	}), log)
	mux := http.NewServeMux()
	(&httpx.Health{Checks: []httpx.Check{r.drain.Check()}}).Register(mux)
	admin := httpx.NewServer(mux, log)
	var err error
	if r.protoL, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if r.adminL, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	r.proto, r.admin = r.protoL.Addr().String(), r.adminL.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		r.err = r.drain.Serve(ctx, httpx.Listener{Server: proto, Listener: r.protoL}, httpx.Listener{Server: admin, Listener: r.adminL})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return r
}

// request sends one request to the protocol listener in the background; its body arrives on
// requestFinished ("" and the error text on failure).
func (r *drainRig) request() {
	go func() {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + r.proto + "/")
		if err != nil {
			r.requestFinished <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r.requestFinished <- string(b)
	}()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

func TestDrainFailsReadinessAtOnceThenClosesTheListenersAndWaitsForTheWorkInFlight(t *testing.T) {
	r := startDrainRig(t, 1500*time.Millisecond, 10*time.Second)
	if status, word, err := httpxtest.Readiness(r.admin); err != nil || status != 200 || word != "ok" {
		t.Fatalf("before the drain /readyz = %d, draining %q, %v; want 200 and ok", status, word, err)
	}
	r.request()
	<-r.inside
	r.cancel() // SIGTERM

	// At once, readiness fails while both listeners still accept: the balancer is to notice first.
	waitFor(t, "readiness failing during the drain delay", func() bool {
		status, word, err := httpxtest.Readiness(r.admin)
		return err == nil && status == http.StatusServiceUnavailable && strings.HasPrefix(word, "failed: shutting down")
	})
	if httpxtest.Refused(r.proto) {
		t.Fatal("the protocol listener refused connections before the drain delay was over")
	}
	// After the delay, neither listener takes a new connection, though a request is in flight.
	waitFor(t, "the listeners closing after the drain delay", func() bool { return httpxtest.Refused(r.proto) && httpxtest.Refused(r.admin) })
	select {
	case got := <-r.requestFinished:
		t.Fatalf("the request in flight ended (%q) before it was released", got)
	default:
	}
	close(r.release)
	if got := <-r.requestFinished; got != "answered" {
		t.Fatalf("the request in flight got %q; want its answer", got)
	}
	// The work the request left behind still holds Serve.
	select {
	case <-r.done:
		t.Fatalf("Serve returned (%v) while detached work was running", r.err)
	case <-time.After(200 * time.Millisecond):
	}
	close(r.releaseWork)
	if err := <-r.workEnded; err != nil {
		t.Fatalf("the detached work was cancelled (%v); want it finished", err)
	}
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("Serve = %v after a clean drain", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return once the work was done")
	}
	if strings.Contains(r.log.String(), "unfinished") {
		t.Errorf("a clean drain logged work as cut off:\n%s", r.log)
	}
}

func TestDrainCancelsWorkStillRunningWhenTheGraceIsOverAndLogsItsKind(t *testing.T) {
	r := startDrainRig(t, 0, 300*time.Millisecond)
	r.request()
	<-r.inside
	close(r.release)
	if got := <-r.requestFinished; got != "answered" {
		t.Fatalf("the request got %q", got)
	}
	r.cancel()
	// The webhook never finishes by itself: the grace ends it.
	select {
	case err := <-r.workEnded:
		if err == nil {
			t.Fatal("the detached work finished by itself; the test meant it to be cut off")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the detached work was never cancelled")
	}
	<-r.done
	if r.err != nil {
		t.Fatalf("Serve = %v", r.err)
	}
	var line struct {
		Msg        string         `json:"msg"`
		Unfinished map[string]int `json:"unfinished"`
	}
	for _, l := range strings.Split(r.log.String(), "\n") {
		if strings.Contains(l, "unfinished") {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line.Unfinished["webhook"] != 1 {
		t.Fatalf("the log does not count the cut-off webhook: %+v\n%s", line, r.log)
	}
	// Nothing new starts once Serve has returned.
	ctx, done := r.drain.Detach(context.Background(), "late")
	defer done()
	if ctx.Err() == nil {
		t.Error("work detached after the drain got a live context")
	}
}

func TestDrainStopsEveryListenerWhenOneFailsWithoutWaitingTheDelay(t *testing.T) {
	ok, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broken.Close()
	d := &httpx.Drain{Delay: time.Hour}
	done := make(chan error, 1)
	go func() {
		done <- d.Serve(context.Background(), httpx.Listener{Server: httpx.NewServer(http.NotFoundHandler(), nil), Listener: ok},
			httpx.Listener{Server: httpx.NewServer(http.NotFoundHandler(), nil), Listener: broken})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Serve = nil; want the broken listener's failure")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a failed listener did not stop the others")
	}
	if !httpxtest.Refused(ok.Addr().String()) {
		t.Error("the healthy listener still accepts connections")
	}
}
