// Command open3ds runs the roles of an EMV 3-D Secure 2 network: Directory Server, ACS and 3DS Server,
// alone or all together in a demo, plus the tools their operators need (PKI, migrations, validation).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// defaultGCPercent is the collector's target when GOGC is not set. A role's live heap is small (tens
// of MiB) and its garbage is per request, so Go's default of 100 collects many times a second under
// load; at 400 the ACS answered 14 % more AReqs a second on two cores for some 15 MiB more memory
// (BENCHMARKS.md). GOGC, when set, decides as usual.
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts a role's drain (docs/operations.md); a second one ends the process at
	// once, for whoever will not wait out the grace.
	context.AfterFunc(ctx, stop)
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
