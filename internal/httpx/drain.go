package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultDrainDelay is how long a role goes on serving after it was told to stop, with its readiness
// already failing, so that a load balancer has time to notice and send no more: a Kubernetes endpoint
// is withdrawn within a few seconds of the pod being marked for deletion.
const DefaultDrainDelay = 5 * time.Second

// unwindWait bounds how long Drain waits, once the grace is over and it has cancelled the work still
// running, for that work to notice and return before the caller closes what it uses (the store).
const unwindWait = time.Second

// errDraining is the readiness check's word while a drain is under way.
var errDraining = errors.New("shutting down: finishing the requests in flight")

// Drain is how a process with several listeners stops without dropping what it was doing. When the
// context given to Serve ends (SIGTERM, SIGINT):
//
//  1. the readiness check from Check fails at once, so that a load balancer stops sending;
//  2. for Delay the listeners still serve, for whatever the balancer sends before it has noticed;
//  3. the listeners stop accepting, and the requests in flight have Grace to finish;
//  4. within the same Grace, Serve waits for the work detached from its request (Detach, Go): an
//     exchange whose caller hung up, an RReq delivery, a webhook. Only then does Serve return, so
//     the caller closes the store after the last write, not under it.
//
// What is still running when Grace is over has its context cancelled and is logged by kind and
// count, nothing more. One Drain serves a whole process: the demo's three roles share one.
//
// A nil *Drain is valid: Detach and Go then detach as context.WithoutCancel does, untracked, which
// is what a role built without one (in a package's own tests) needs.
type Drain struct {
	Delay time.Duration // between readiness failing and the listeners closing
	Grace time.Duration // for requests in flight and detached work, after Delay; ShutdownGrace when zero
	Log   *slog.Logger

	init sync.Once
	// hard ends when Grace is over: every detached context is cancelled with it.
	hard context.Context
	cut  context.CancelFunc

	mu       sync.Mutex
	draining bool
	closed   bool           // Serve is done waiting: new work gets a cancelled context
	running  map[string]int // detached work by kind
	total    int
	idle     chan struct{} // closed when total falls to zero while Serve waits
}

func (d *Drain) setup() {
	d.init.Do(func() {
		d.hard, d.cut = context.WithCancel(context.Background())
		d.running = map[string]int{}
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// Check is the readiness check that fails from the moment the drain begins.
func (d *Drain) Check() Check {
	return Check{Name: "draining", Run: func(context.Context) error {
		if d.Draining() {
			return errDraining
		}
		return nil
	}}
}

// Draining says whether the drain has begun.
func (d *Drain) Draining() bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.draining
}

// Detach returns a context for work that must outlive the request or loop that started it: it
// carries parent's values but not its cancellation, and ends only when the drain's grace is over.
// The caller must call done when the work is finished; until then Serve does not return. kind names
// the work in the log line of a drain cut short ("AReq", "webhook"), and must never hold data.
func (d *Drain) Detach(parent context.Context, kind string) (ctx context.Context, done func()) {
	if d == nil {
		return context.WithoutCancel(parent), func() {}
	}
	d.setup()
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	d.mu.Lock()
	if d.closed {
		// Serve has returned and the store may be closing: nothing new starts.
		d.mu.Unlock()
		cancel()
		return ctx, func() {}
	}
	d.running[kind]++
	d.total++
	d.mu.Unlock()
	stop := context.AfterFunc(d.hard, cancel)
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			stop()
			cancel()
			d.mu.Lock()
			d.running[kind]--
			d.total--
			if d.total == 0 && d.idle != nil {
				close(d.idle)
				d.idle = nil
			}
			d.mu.Unlock()
		})
	}
}

// Go runs f in the background on a context from Detach.
func (d *Drain) Go(parent context.Context, kind string, f func(ctx context.Context)) {
	ctx, done := d.Detach(parent, kind)
	go func() {
		defer done()
		f(ctx)
	}()
}

// Listener is one server on its open listener. A server with a TLSConfig serves TLS.
type Listener struct {
	Server   *http.Server
	Listener net.Listener
}

// Serve runs every server until ctx ends or one of them fails, then drains as the type says (with
// no Delay after a failure: the instance is broken, not asked to leave) and returns the first
// failure, or nil.
func (d *Drain) Serve(ctx context.Context, ls ...Listener) error {
	d.setup()
	errs := make(chan error, len(ls))
	for _, l := range ls {
		go func() { errs <- serveOne(l.Server, l.Listener) }()
	}
	pending := len(ls)
	var first error
	keep := func(err error) {
		pending--
		if err != nil && !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
		}
	}
	select {
	case <-ctx.Done():
	case err := <-errs:
		keep(err)
	}
	d.mu.Lock()
	d.draining = true
	d.mu.Unlock()
	if first == nil && d.Delay > 0 {
		d.Log.Info("draining: readiness fails now; the listeners close after the drain delay", "delay", d.Delay)
		select {
		case <-time.After(d.Delay):
		case err := <-errs:
			keep(err)
		}
	}
	grace := d.Grace
	if grace <= 0 {
		grace = ShutdownGrace
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() {
			if l.Server.Shutdown(sctx) != nil {
				l.Server.Close()
			}
		})
	}
	wg.Wait()
	for ; pending > 0; pending-- {
		if err := <-errs; err != nil && !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
		}
	}
	d.wait(sctx)
	return first
}

func serveOne(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// wait waits for the detached work until none is left or ctx ends; then it cancels whatever still
// runs, logs it by kind, and lets nothing new start.
func (d *Drain) wait(ctx context.Context) {
	d.mu.Lock()
	if d.total == 0 {
		d.closed = true
		d.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	d.idle = idle
	d.mu.Unlock()
	select {
	case <-idle:
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		return
	case <-ctx.Done():
	}
	d.mu.Lock()
	d.closed = true
	cutOff := map[string]int{}
	for kind, n := range d.running {
		if n > 0 {
			cutOff[kind] = n
		}
	}
	d.mu.Unlock()
	d.Log.Warn("shutdown grace over: cancelling the work still in flight", "unfinished", cutOff)
	d.cut()
	select {
	case <-idle:
	case <-time.After(unwindWait):
	}
}
