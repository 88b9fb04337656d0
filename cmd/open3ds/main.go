// Command open3ds runs the roles of an EMV 3-D Secure 2 network: Directory Server, ACS and 3DS Server,
// alone or all together in a demo, plus the tools their operators need (PKI, migrations, validation).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ex exitError
		if !errors.As(err, &ex) || ex.msg != "" {
			fmt.Fprintln(os.Stderr, "open3ds:", err)
		}
		os.Exit(exitCode(err))
	}
}
