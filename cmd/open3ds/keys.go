package main

import (
	"context"
	"errors"
	"fmt"
)

func init() {
	register(command{name: "keys", summary: "key maintenance: rotate (re-seal every PAN under the current vault key)", run: runKeys})
}

// acsRotateBatch is how many PANs one transaction re-seals: small, so that the ACS's own writes never
// wait long behind a rotation.
const acsRotateBatch = 200

func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return usageError("usage: open3ds keys rotate [--dsn DSN] (keys from OPEN3DS_VAULT_KEYS)")
	}
	f := newACSFlags(e, "keys rotate", "keys rotate [--dsn DSN]\n\nRe-seals every stored PAN under the current key of OPEN3DS_VAULT_KEYS, in small batches, while the ACS runs.")
	if err := f.parse(e, args[1:]); err != nil {
		if errors.Is(err, acsErrHelp) {
			return nil
		}
		return err
	}
	s, done, err := acsOpen(ctx, e, *f.dsn, true)
	if err != nil {
		return err
	}
	defer done()
	total := 0
	for {
		n, err := s.Rotate(ctx, acsRotateBatch)
		if err != nil {
			return fmt.Errorf("after re-sealing %d PANs: %w", total, err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	fmt.Fprintf(e.stdout, "re-sealed %d PANs under the current key\n", total)
	return nil
}
