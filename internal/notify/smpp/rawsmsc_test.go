package smpp_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/notify/smpp"
)

// rawSMSC accepts one connection, answers the bind, and hands every later PDU to script, which
// may answer through write. It covers what the npm SMSC cannot be made to do: send a command the
// client does not know, or stay silent.
func rawSMSC(t *testing.T, script func(p *smpp.PDU, write func(*smpp.PDU))) (addr string, got chan *smpp.PDU) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan *smpp.PDU, 16)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		write := func(p *smpp.PDU) {
			b, _ := smpp.Encode(p)
			c.Write(b)
		}
		for {
			p, err := smpp.ReadPDU(c)
			if err != nil {
				return
			}
			if p.Command == smpp.BindTransmitter {
				write(&smpp.PDU{Command: smpp.BindTransmitterResp, Sequence: p.Sequence, SystemID: "raw"})
				continue
			}
			if p.Command == smpp.Unbind {
				write(&smpp.PDU{Command: smpp.UnbindResp, Sequence: p.Sequence})
				return
			}
			got <- p
			script(p, write)
		}
	}()
	return ln.Addr().String(), got
}

func TestAnUnknownCommandFromTheSMSCGetsAGenericNack(t *testing.T) {
	addr, got := rawSMSC(t, func(p *smpp.PDU, write func(*smpp.PDU)) {
		if p.Command == smpp.SubmitSM {
			// data_sm, which a transmitter does not handle, before the answer.
			write(&smpp.PDU{Command: 0x00000103, Sequence: 900, Body: []byte{0}})
			write(&smpp.PDU{Command: smpp.SubmitSMResp, Sequence: p.Sequence, MessageID: "m1"})
		}
	})
	c, err := smpp.Dial(context.Background(), smpp.Config{Addr: addr, SystemID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if id, err := c.Submit(context.Background(), "+811234", "x"); err != nil || id != "m1" {
		t.Fatalf("submit: %q, %v", id, err)
	}
	<-got // the submit_sm
	select {
	case p := <-got:
		if p.Command != smpp.GenericNack || p.Sequence != 900 || p.Status != smpp.ESME_RINVCMDID {
			t.Fatalf("answer = %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no generic_nack")
	}
}

func TestASilentSMSCTimesOutAndLosesItsLink(t *testing.T) {
	addr, _ := rawSMSC(t, func(*smpp.PDU, func(*smpp.PDU)) {})
	c, err := smpp.Dial(context.Background(), smpp.Config{Addr: addr, SystemID: "x",
		ResponseTimeout: 50 * time.Millisecond, EnquireLinkInterval: time.Hour, ReconnectMin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Submit(context.Background(), "+811234", "x"); !errors.Is(err, smpp.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestAnUnansweredEnquireLinkDropsTheLink(t *testing.T) {
	addr, got := rawSMSC(t, func(*smpp.PDU, func(*smpp.PDU)) {})
	c, err := smpp.Dial(context.Background(), smpp.Config{Addr: addr, SystemID: "x",
		ResponseTimeout: 50 * time.Millisecond, EnquireLinkInterval: 20 * time.Millisecond, ReconnectMin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := <-got; p.Command != smpp.EnquireLink {
		t.Fatalf("first PDU = %s", p.Command)
	}
	// The link is now down and the reconnect far away: Submit waits and gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	time.Sleep(150 * time.Millisecond)
	if _, err := c.Submit(ctx, "+811234", "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline while the link is down", err)
	}
}
