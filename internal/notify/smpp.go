package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/open3ds/open3ds/internal/notify/smpp"
)

// SMPPSender sends SMS over an SMPP 3.4 link kept open by an smpp.Client.
type SMPPSender struct {
	client *smpp.Client
}

// NewSMPPSender wraps a bound client; the caller closes the client when done.
func NewSMPPSender(c *smpp.Client) *SMPPSender { return &SMPPSender{client: c} }

// Send implements Sender for SMS. The text goes in the GSM default alphabet when it fits, in UCS-2
// otherwise (Japanese always does). A refusal by the SMSC that a retry cannot change, such as an
// invalid destination or a generic_nack, is a *PermanentError.
func (s *SMPPSender) Send(ctx context.Context, m Message) (Receipt, error) {
	rc := Receipt{Channel: SMS, Provider: "smpp", To: Mask(SMS, m.To)}
	if m.Channel != SMS {
		return rc, ErrUnsupportedChannel
	}
	r, err := Render(m)
	if err != nil {
		return rc, err
	}
	id, err := s.client.Submit(ctx, m.To, r.SMS)
	if err != nil {
		var se *smpp.StatusError
		if errors.As(err, &se) && !se.Temporary() {
			return rc, &PermanentError{Err: fmt.Errorf("notify: smpp: %w", err)}
		}
		return rc, fmt.Errorf("notify: smpp: %w", err)
	}
	rc.ProviderID = id
	return rc, nil
}
