package main

import (
	"context"
	"fmt"

	"github.com/open3ds/open3ds/internal/buildinfo"
)

func init() {
	register(command{name: "version", summary: "print the version and the commit this binary was built from (also --version)", run: runVersion})
}

func runVersion(_ context.Context, e env, args []string) error {
	if len(args) > 0 {
		return usageError("version takes no arguments")
	}
	_, err := fmt.Fprintln(e.stdout, buildinfo.Read())
	return err
}
