package smpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Client. Zero durations take the defaults named on each field.
type Config struct {
	Addr string      // host:port of the SMSC
	TLS  *tls.Config // nil for plain TCP, which most SMSCs offer only on private links
	// Credentials for bind_transmitter. Password comes from configuration, never the repository.
	SystemID, Password, SystemType string
	// Source is the sender address (a short code, a number or an alphanumeric name).
	Source               string
	SourceTON, SourceNPI byte
	// RegisteredDelivery asks the SMSC for a delivery receipt, reported to OnReceipt.
	RegisteredDelivery bool
	OnReceipt          func(DeliveryReceipt)

	EnquireLinkInterval time.Duration // between keep-alives, 30 s
	ResponseTimeout     time.Duration // for every response, 10 s
	ReconnectMin        time.Duration // first wait after a lost link, 500 ms; doubles up to ReconnectMax
	ReconnectMax        time.Duration // 30 s
	Logger              *slog.Logger  // link events; never message text or destinations
}

func (c Config) withDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.EnquireLinkInterval, 30*time.Second)
	set(&c.ResponseTimeout, 10*time.Second)
	set(&c.ReconnectMin, 500*time.Millisecond)
	set(&c.ReconnectMax, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Errors a Client returns.
var (
	ErrClosed         = errors.New("smpp: client closed")
	ErrConnectionLost = errors.New("smpp: connection lost before the response")
	ErrTimeout        = errors.New("smpp: no response in time")
)

// StatusError is a response that refused a request: a command_status other than ESME_ROK, or a
// generic_nack.
type StatusError struct {
	Command CommandID // the response: submit_sm_resp, bind_transmitter_resp or generic_nack
	Status  Status
}

func (e *StatusError) Error() string { return fmt.Sprintf("smpp: %s with %s", e.Command, e.Status) }

// Temporary reports whether the same request may succeed later: the SMSC is busy or failing,
// rather than refusing this message.
func (e *StatusError) Temporary() bool {
	return e.Command != GenericNack && (e.Status == ESME_RMSGQFUL || e.Status == ESME_RTHROTTLED || e.Status == ESME_RSYSERR)
}

// Client is a bound transmitter session that survives lost links: it reconnects and binds again
// in the background, and Submit waits for the link up to its context's deadline.
type Client struct {
	cfg    Config
	log    *slog.Logger
	seq    atomic.Uint32
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	cur    *conn         // nil while the link is down
	ready  chan struct{} // closed while cur is set
	closed bool
}

// Dial connects and binds, and returns an error if the first bind fails (bad credentials show at
// start-up, not at the first code). Later losses of the link are repaired in the background.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	c := &Client{cfg: cfg, log: cfg.Logger, ready: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	cn, err := c.connect(ctx)
	if err != nil {
		c.cancel()
		return nil, err
	}
	c.up(cn)
	c.wg.Add(1)
	go c.supervise(cn)
	return c, nil
}

func (c *Client) nextSeq() uint32 {
	for {
		if s := c.seq.Add(1) & 0x7FFFFFFF; s != 0 {
			return s
		}
	}
}

func (c *Client) up(cn *conn) {
	c.mu.Lock()
	c.cur = cn
	close(c.ready)
	c.mu.Unlock()
}

// down forgets cn as the current link, so Submit waits for the next one instead of writing to a
// dead socket.
func (c *Client) down(cn *conn) {
	c.mu.Lock()
	if c.cur == cn {
		c.cur, c.ready = nil, make(chan struct{})
	}
	c.mu.Unlock()
}

// supervise waits for the link to die and binds again, backing off between failed attempts.
func (c *Client) supervise(cn *conn) {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-cn.dead:
		}
		c.log.Warn("smpp link lost", "addr", c.cfg.Addr, "error", cn.err.Error())
		wait := c.cfg.ReconnectMin
		for {
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(wait):
			}
			next, err := c.connect(c.ctx)
			if err == nil {
				c.log.Info("smpp link restored", "addr", c.cfg.Addr)
				c.up(next)
				cn = next
				break
			}
			c.log.Warn("smpp reconnect failed", "addr", c.cfg.Addr, "error", err.Error())
			wait = min(2*wait, c.cfg.ReconnectMax)
		}
	}
}

// connect dials, starts the reader and binds as a transmitter.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	d := net.Dialer{Timeout: c.cfg.ResponseTimeout}
	nc, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smpp: dial: %w", err)
	}
	if c.cfg.TLS != nil {
		nc = tls.Client(nc, c.cfg.TLS)
	}
	cn := &conn{c: c, nc: nc, pending: map[uint32]chan *PDU{}, dead: make(chan struct{})}
	c.wg.Add(1)
	go cn.readLoop()
	resp, err := cn.request(ctx, &PDU{Command: BindTransmitter, SystemID: c.cfg.SystemID, Password: c.cfg.Password,
		SystemType: c.cfg.SystemType, InterfaceVersion: 0x34})
	if err == nil && (resp.Command == GenericNack || resp.Status != ESME_ROK) {
		err = &StatusError{Command: resp.Command, Status: resp.Status}
	}
	if err != nil {
		cn.kill(err)
		return nil, fmt.Errorf("smpp: bind: %w", err)
	}
	c.wg.Add(1)
	go cn.keepAlive()
	return cn, nil
}

// Submit sends text to dest (an international number such as +81 90 1234 5678, or a national
// one) and returns the SMSC's message_id. It returns a *StatusError when the SMSC refuses the
// message, ErrConnectionLost when the link died before the answer (the message may or may not
// have been taken), ErrTimeout, ErrClosed, or the context's error while waiting for a link.
func (c *Client) Submit(ctx context.Context, dest, text string) (string, error) {
	cn, err := c.live(ctx)
	if err != nil {
		return "", err
	}
	p := &PDU{Command: SubmitSM, SourceTON: c.cfg.SourceTON, SourceNPI: c.cfg.SourceNPI, Source: c.cfg.Source}
	p.DestTON, p.DestNPI, p.Dest = address(dest)
	data, coding := EncodeText(text)
	p.DataCoding = coding
	if len(data) <= maxShortMessage {
		p.ShortMessage = data
	} else {
		// Too long for short_message: SMPP 3.4 carries it in message_payload instead.
		p.TLVs = []TLV{{Tag: TagMessagePayload, Value: data}}
	}
	if c.cfg.RegisteredDelivery {
		p.RegisteredDelivery = 1
	}
	resp, err := cn.request(ctx, p)
	if err != nil {
		return "", err
	}
	if resp.Command == GenericNack || resp.Status != ESME_ROK {
		return "", &StatusError{Command: resp.Command, Status: resp.Status}
	}
	return resp.MessageID, nil
}

// address normalises a destination: an international number loses its + and spacing and gets
// TON 1 (international), NPI 1 (E.164); anything else is sent as given with TON and NPI unknown.
func address(dest string) (ton, npi byte, addr string) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
			return -1
		}
		return r
	}, dest)
	if strings.HasPrefix(digits, "+") {
		return 1, 1, digits[1:]
	}
	return 0, 0, digits
}

// live returns the current link, waiting for a reconnect while ctx allows.
func (c *Client) live(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		cn, ready, closed := c.cur, c.ready, c.closed
		c.mu.Unlock()
		switch {
		case closed:
			return nil, ErrClosed
		case cn != nil:
			return cn, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("smpp: waiting for the link: %w", ctx.Err())
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}

// Close unbinds (waiting briefly for unbind_resp), closes the link and stops reconnecting.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cn := c.cur
	c.mu.Unlock()
	c.cancel()
	if cn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = cn.request(ctx, &PDU{Command: Unbind})
		cancel()
		cn.kill(ErrClosed)
	}
	c.wg.Wait()
	return nil
}
