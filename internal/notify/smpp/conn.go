package smpp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// conn is one TCP link: a reader goroutine dispatches responses to the requests waiting for them
// by sequence number, and answers the SMSC's own requests.
type conn struct {
	c  *Client
	nc net.Conn

	wmu sync.Mutex // one PDU on the wire at a time

	pmu     sync.Mutex
	pending map[uint32]chan *PDU

	once sync.Once
	dead chan struct{}
	err  error // why the link died; set before dead is closed
}

func (cn *conn) kill(err error) {
	cn.once.Do(func() {
		cn.err = err
		cn.c.down(cn)
		close(cn.dead)
		cn.nc.Close()
	})
}

func (cn *conn) write(p *PDU) error {
	b, err := Encode(p)
	if err != nil {
		return err
	}
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	_ = cn.nc.SetWriteDeadline(time.Now().Add(cn.c.cfg.ResponseTimeout))
	if _, err := cn.nc.Write(b); err != nil {
		cn.kill(err)
		return fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	return nil
}

// request sends p with a fresh sequence number and waits for the response with that number.
func (cn *conn) request(ctx context.Context, p *PDU) (*PDU, error) {
	p.Sequence = cn.c.nextSeq()
	ch := make(chan *PDU, 1)
	cn.pmu.Lock()
	cn.pending[p.Sequence] = ch
	cn.pmu.Unlock()
	defer func() {
		cn.pmu.Lock()
		delete(cn.pending, p.Sequence)
		cn.pmu.Unlock()
	}()
	if err := cn.write(p); err != nil {
		return nil, err
	}
	timer := time.NewTimer(cn.c.cfg.ResponseTimeout)
	defer timer.Stop()
	select {
	case resp := <-ch:
		return resp, nil
	case <-cn.dead:
		return nil, fmt.Errorf("%w: %v", ErrConnectionLost, cn.err)
	case <-timer.C:
		return nil, fmt.Errorf("%w: %s", ErrTimeout, p.Command)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (cn *conn) readLoop() {
	defer cn.c.wg.Done()
	r := bufio.NewReader(cn.nc)
	for {
		p, err := ReadPDU(r)
		if err != nil {
			cn.kill(err)
			return
		}
		cn.dispatch(p)
	}
}

func (cn *conn) dispatch(p *PDU) {
	if p.Command.IsResponse() {
		cn.pmu.Lock()
		ch, ok := cn.pending[p.Sequence]
		cn.pmu.Unlock()
		if ok {
			ch <- p
		} else {
			cn.c.log.Warn("smpp response matches no request", "command", p.Command.String(), "sequence", p.Sequence, "status", p.Status.String())
		}
		return
	}
	switch p.Command {
	case EnquireLink:
		_ = cn.write(&PDU{Command: EnquireLinkResp, Sequence: p.Sequence})
	case DeliverSM:
		_ = cn.write(&PDU{Command: DeliverSMResp, Sequence: p.Sequence})
		if r, ok := ParseReceipt(p); ok && cn.c.cfg.OnReceipt != nil {
			cn.c.cfg.OnReceipt(r)
		}
	case Unbind:
		_ = cn.write(&PDU{Command: UnbindResp, Sequence: p.Sequence})
		cn.kill(fmt.Errorf("smpp: the SMSC unbound"))
	default:
		_ = cn.write(&PDU{Command: GenericNack, Status: ESME_RINVCMDID, Sequence: p.Sequence})
	}
}

// keepAlive sends enquire_link at the configured interval and drops the link when one goes
// unanswered, so a half-open TCP connection is noticed before a code is lost in it.
func (cn *conn) keepAlive() {
	defer cn.c.wg.Done()
	t := time.NewTicker(cn.c.cfg.EnquireLinkInterval)
	defer t.Stop()
	for {
		select {
		case <-cn.dead:
			return
		case <-t.C:
			resp, err := cn.request(context.Background(), &PDU{Command: EnquireLink})
			if err == nil && resp.Status != ESME_ROK {
				err = &StatusError{Command: resp.Command, Status: resp.Status}
			}
			if err != nil {
				cn.kill(fmt.Errorf("smpp: enquire_link: %w", err))
				return
			}
		}
	}
}
