package tcplb

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// backend answers every connection with its name and the line it was sent, as a stand-in for an
// instance behind the balancer.
func backend(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, name+" "+line)
			}()
		}
	}()
	return ln.Addr().String()
}

// start runs a balancer over backends and returns its address.
func start(t *testing.T, backends ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Balancer{Backends: backends, DialTimeout: time.Second}
	done := make(chan error, 1)
	go func() { done <- b.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// ask sends a line through the balancer and returns the answer.
func ask(t *testing.T, addr, line string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, line+"\n")
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read through the balancer: %v", err)
	}
	return strings.TrimSpace(string(got))
}

func TestConnectionsTakeTheBackendsInTurnAndBytesPassUnchanged(t *testing.T) {
	addr := start(t, backend(t, "a"), backend(t, "b"))
	var got []string
	for i := range 4 {
		got = append(got, ask(t, addr, "hello "+string(rune('0'+i))))
	}
	want := []string{"a hello 0", "b hello 1", "a hello 2", "b hello 3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("answers %q, want %q", got, want)
	}
}

func TestABackendThatRefusesIsSkipped(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	addr := start(t, deadAddr, backend(t, "b"))
	for i := range 3 {
		if got := ask(t, addr, "x"); got != "b x" {
			t.Errorf("connection %d: %q, want the live backend's answer", i, got)
		}
	}
}
