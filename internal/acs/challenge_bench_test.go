package acs_test

import (
	"net/http"
	"net/url"
	"testing"
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
