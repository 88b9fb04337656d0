// Package smsctest runs the test SMSC, the npm "smpp" package's server driven by
// internal/notify/testdata/smsc/server.js, for tests of the SMPP client. The SMSC shares no code
// with the client, so a test that passes against it shows the client speaks SMPP as others do.
package smsctest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Event is one line the SMSC printed: what it received or answered.
type Event struct {
	Event              string `json:"event"`
	Port               int    `json:"port"`
	SystemID           string `json:"system_id"`
	OK                 bool   `json:"ok"`
	SourceAddr         string `json:"source_addr"`
	DestinationAddr    string `json:"destination_addr"`
	DestAddrTON        int    `json:"dest_addr_ton"`
	DestAddrNPI        int    `json:"dest_addr_npi"`
	DataCoding         int    `json:"data_coding"`
	RegisteredDelivery int    `json:"registered_delivery"`
	Text               string `json:"text"`
	MessageID          string `json:"message_id"`
	CommandStatus      int    `json:"command_status"`
	Message            string `json:"message"`
}

// SMSC is a running test SMSC.
type SMSC struct {
	Addr string

	mu     sync.Mutex
	events []Event
	cond   *sync.Cond
}

// Dir is the folder holding server.js and package.json.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "smsc")
}

// Start runs the SMSC on a free loopback port and stops it when the test ends. When Node.js or
// the npm package is missing it fails the test under CI (env CI set) and skips it, loudly,
// elsewhere: scripts/test.sh installs both.
func Start(tb testing.TB) *SMSC {
	tb.Helper()
	dir := Dir()
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "Node.js (node) is not installed"
	default:
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "smpp", "package.json")); err != nil {
			missing = "the npm package smpp is not installed in " + dir + " (run: npm ci --prefix " + dir + ")"
		}
	}
	if missing != "" {
		msg := "SMPP tests need the test SMSC: " + missing + "; scripts/test.sh installs it"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED LOUDLY: " + msg)
	}
	cmd := exec.Command(node, "server.js", "0")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &SMSC{}
	s.cond = sync.NewCond(&s.mu)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e Event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				e = Event{Event: "unparsed", Message: sc.Text()}
			}
			s.mu.Lock()
			s.events = append(s.events, e)
			s.cond.Broadcast()
			s.mu.Unlock()
		}
		s.mu.Lock()
		s.events = append(s.events, Event{Event: "exit"})
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	tb.Cleanup(func() {
		stdin.Close() // the script exits when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if tb.Failed() && stderr.Len() > 0 {
			tb.Logf("SMSC stderr:\n%s", stderr.String())
		}
	})
	e, ok := s.WaitFor("listening", 0, 10*time.Second)
	if !ok {
		tb.Fatalf("the test SMSC did not start: %s", stderr.String())
	}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", e.Port)
	return s
}

// WaitFor returns the event named name that follows skip earlier ones of that name, waiting up
// to d for it.
func (s *SMSC) WaitFor(name string, skip int, d time.Duration) (Event, bool) {
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		seen := 0
		for _, e := range s.events {
			if e.Event == name {
				if seen == skip {
					return e, true
				}
				seen++
			}
		}
		if time.Now().After(deadline) {
			return Event{}, false
		}
		s.cond.Wait()
	}
}

// Events returns every event so far.
func (s *SMSC) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Count returns how many events named name have been seen.
func (s *SMSC) Count(name string) int {
	n := 0
	for _, e := range s.Events() {
		if e.Event == name {
			n++
		}
	}
	return n
}
