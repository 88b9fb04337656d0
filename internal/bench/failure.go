package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Failure is an operation that got an answer, but the wrong one. Class groups failures in the report
// ("Erro 203", "HTTP 500", "transStatus N"); the message of the first failure of each class is kept
// as its example, so it must never hold card data.
type Failure struct {
	Class  string
	Detail string
}

func (f *Failure) Error() string {
	if f.Detail == "" {
		return f.Class
	}
	return f.Class + ": " + f.Detail
}

// Failf makes a Failure of class with a formatted detail.
func Failf(class, format string, a ...any) error {
	return &Failure{Class: class, Detail: fmt.Sprintf(format, a...)}
}

// ClassOf names the class an operation's error counts under: a Failure's own class, or for an
// error from the network a short kind of transport error, so that the report groups them rather
// than list every port number.
func ClassOf(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Class
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "transport: timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "transport: connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed"
	case errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EMFILE):
		return "transport: out of sockets"
	}
	return "transport: other"
}
