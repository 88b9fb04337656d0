package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// env is what a sub-command may touch of the outside world. Tests build one with buffers and a map in
// place of the process's environment, so every command runs in-process exactly as it does from a shell.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one sub-command. Each lives in its own file and registers itself in an init function, so
// that `open3ds help` lists exactly the sub-commands that are built in.
type command struct {
	name    string
	summary string // one line for `open3ds help`
	run     func(ctx context.Context, e env, args []string) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("open3ds: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// exitError ends the process with a chosen status. An empty msg prints nothing more: the command has
// already said what it had to (for example `validate` printing the Erro it would send).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// usageError reports a mistake in how a command was called; it exits with status 2.
func usageError(format string, a ...any) error {
	return exitError{code: 2, msg: fmt.Sprintf(format, a...)}
}

func exitCode(err error) int {
	var ex exitError
	if errors.As(err, &ex) {
		return ex.code
	}
	return 1
}

// run is the whole program behind main: it picks the sub-command and runs it. Tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printHelp(stderr)
		return exitError{code: 2}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printHelp(stdout)
		return nil
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	c, ok := commands[args[0]]
	if !ok {
		printHelp(stderr)
		return usageError("unknown command %q", args[0])
	}
	return c.run(ctx, e, args[1:])
}

func printHelp(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("open3ds: an EMV 3-D Secure 2 network (Directory Server, ACS, 3DS Server).\n\nUsage: open3ds <command> [flags]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	b.WriteString("\nRun `open3ds <command> -h` for a command's flags.\n")
	io.WriteString(w, b.String())
}
