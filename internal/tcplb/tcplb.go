// Package tcplb is a layer-4 round-robin balancer: it hands each accepted TCP connection to the next
// of its backends and copies bytes both ways without looking at them. TLS passes through, so mutual
// TLS still ends at the backend, which sees the client's certificate as it would behind a network
// load balancer. It exists so that the demo can put several instances of a role behind one address
// as a deployment's balancer would; it is not meant to face the internet.
package tcplb

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Balancer spreads connections over Backends (host:port) in turn. A backend that refuses a
// connection is skipped for that connection; when all refuse, the client's connection is closed.
type Balancer struct {
	Backends []string
	Log      *slog.Logger
	// DialTimeout bounds each connection attempt to a backend (default 2 s).
	DialTimeout time.Duration

	next  atomic.Uint64
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Serve accepts on ln until it is closed, then waits for the connections under way to end. It
// returns nil when ln was closed.
func (b *Balancer) Serve(ln net.Listener) error {
	if len(b.Backends) == 0 {
		return errors.New("tcplb: no backends")
	}
	defer b.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.pipe(c)
		}()
	}
}

// CloseConnections cuts every connection under way, as a balancer's end does.
func (b *Balancer) CloseConnections() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		c.Close()
	}
}

// pick dials the next backend, trying each once from there.
func (b *Balancer) pick() (net.Conn, error) {
	timeout := b.DialTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	start := b.next.Add(1) - 1
	var last error
	for i := range len(b.Backends) {
		addr := b.Backends[(start+uint64(i))%uint64(len(b.Backends))]
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err == nil {
			return c, nil
		}
		last = err
		if b.Log != nil {
			b.Log.Warn("tcplb: backend refused a connection; trying the next", "backend", addr, "err", err)
		}
	}
	return nil, last
}

func (b *Balancer) pipe(front net.Conn) {
	back, err := b.pick()
	if err != nil {
		if b.Log != nil {
			b.Log.Error("tcplb: no backend took the connection", "err", err)
		}
		front.Close()
		return
	}
	b.track(front, back)
	defer b.untrack(front, back)
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Pass the end of one direction on, so that the other side sees it and can finish its own.
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go copyHalf(back, front)
	go copyHalf(front, back)
	<-done
	<-done
	front.Close()
	back.Close()
}

func (b *Balancer) track(cs ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns == nil {
		b.conns = map[net.Conn]struct{}{}
	}
	for _, c := range cs {
		b.conns[c] = struct{}{}
	}
}

func (b *Balancer) untrack(cs ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range cs {
		delete(b.conns, c)
	}
}
