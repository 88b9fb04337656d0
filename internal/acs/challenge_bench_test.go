package acs_test

import (
	"context"
	"net/http"
	"net/url"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"
)

// BenchmarkThreeDSMethodPage measures the 3DS Method answer (decode, store the server's view of the
// device, render), which the requestor's 10-second rule bounds.
func BenchmarkThreeDSMethodPage(b *testing.B) {
	s := newShop(b)
	form := url.Values{"threeDSMethodData": {methodData(methodTransID, "https://merchant.example/n")}}
	for b.Loop() {
		resp, err := http.PostForm(s.url+"/method", form)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkChallengeToCodePage measures an AReq that challenges, the first CReq and the send step:
// what the ACS does before the shopper sees the code field.
func BenchmarkChallengeToCodePage(b *testing.B) {
	s := newShop(b)
	for b.Loop() {
		id, server := s.challenge(b, "en")
		p := s.start(b, id, server)
		if p = s.act(b, p, "send", "dest", "email:0"); p.status != http.StatusOK {
			b.Fatalf("status %d", p.status)
		}
	}
}

// BenchmarkOpenChallengeMemory opens b.N challenges up to the code page and leaves them open, then
// reports the Go heap they keep: the ACS keeps nothing of a challenge in memory between requests
// (each step is stored), so this should stay near zero whatever the number of open challenges.
func BenchmarkOpenChallengeMemory(b *testing.B) {
	s := newShop(b)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	// One challenge first, so that the pools, caches and templates exist before the measurement.
	id, server := s.challenge(b, "en")
	s.act(b, s.start(b, id, server), "send", "dest", "email:0")
	h0 := heap()
	b.ResetTimer()
	for b.Loop() {
		id, server := s.challenge(b, "en")
		if p := s.act(b, s.start(b, id, server), "send", "dest", "email:0"); p.status != http.StatusOK {
			b.Fatalf("status %d", p.status)
		}
	}
	b.StopTimer()
	h1 := heap()
	b.ReportMetric(float64(int64(h1)-int64(h0))/float64(b.N), "heap-B/open-challenge")
}

// BenchmarkCompleteChallengeCPU runs whole challenges (AReq, CReq, send, right code, final page with
// the CRes, RReq written) one after another and reports the process's CPU time per challenge. The
// test's own client is in the same process, so the figure is an upper bound on the ACS's share.
//
// Everything of the ACS runs under the profiler label side=acs: its servers (and so every connection
// they accept), its store's committer and checkpointer, and the delivery queue are started inside
// pprof.Do, and goroutines keep the labels of the one that started them. The ACS's own CPU, TLS and
// HTTP included and the test's client and the runtime's GC excluded, is then
//
//	go test ./internal/acs -run XXX -bench CompleteChallengeCPU -benchtime 1500x -cpuprofile ch.prof
//	go tool pprof -tagfocus side=acs -top ch.prof | head -4
//
// divided by the number of challenges.
func BenchmarkCompleteChallengeCPU(b *testing.B) {
	var s *shop
	pprof.Do(context.Background(), pprof.Labels("side", "acs"), func(context.Context) { s = newShop(b) })
	s.unwatched = true
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c0 := cpu()
	n := 0
	for b.Loop() {
		id, server := s.challenge(b, "en-GB")
		p := s.act(b, s.start(b, id, server), "send", "dest", "sms:0")
		// The outbox keeps only its newest messages: the code is found by its transaction.
		var code string
		for deadline := time.Now().Add(5 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			for _, m := range s.outbox.Messages(mobile) {
				if m.TransactionID == id {
					code = m.Code
					break
				}
			}
		}
		cres, _ := s.final(b, s.act(b, p, "submit", "code", code), id)
		if cres.TransStatus != "Y" {
			b.Fatalf("transStatus %s", cres.TransStatus)
		}
		n++
	}
	b.ReportMetric(float64((cpu()-c0).Microseconds())/1000/float64(n), "cpu-ms/challenge")
}
