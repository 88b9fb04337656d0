package shopapp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/pkg/sdk"
)

// TerminalUI shows each challenge screen on a terminal and reads the cardholder's answer, one line
// per screen. On any screen "r" asks for a new code where the ACS offers one and "c" cancels.
type TerminalUI struct {
	In  *bufio.Reader
	Out io.Writer
}

func (u TerminalUI) Text(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	u.header(s)
	label := firstOf(s.Label, "Code")
	line, err := u.ask(ctx, fmt.Sprintf("%s (%sc to cancel): ", label, u.resend(s)))
	return special(line, sdk.Answer{Entry: line}), err
}

func (u TerminalUI) SingleSelect(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	u.header(s)
	u.options(s)
	line, err := u.ask(ctx, "Choose one (c to cancel): ")
	return special(line, sdk.Answer{Selected: keys(s, line)}), err
}

func (u TerminalUI) MultiSelect(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	u.header(s)
	u.options(s)
	line, err := u.ask(ctx, "Choose any, comma-separated (c to cancel): ")
	return special(line, sdk.Answer{Selected: keys(s, line)}), err
}

func (u TerminalUI) OOB(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	u.header(s)
	line, err := u.ask(ctx, fmt.Sprintf("Press Enter to %s once done (c to cancel): ", strings.ToLower(firstOf(s.OOBContinueLabel, "continue"))))
	return special(line, sdk.Answer{}), err
}

func (u TerminalUI) HTML(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	fmt.Fprintf(u.Out, "\nThe ACS sent an HTML page:\n%s\n", s.HTML)
	line, err := u.ask(ctx, "What its form submits, URL-encoded (c to cancel): ")
	return special(line, sdk.Answer{HTMLData: line}), err
}

func (u TerminalUI) header(s sdk.Screen) {
	fmt.Fprintf(u.Out, "\n== %s ==\n", firstOf(s.Header, "Authentication"))
	for _, t := range []string{s.Text, s.AddInfo} {
		if t != "" {
			fmt.Fprintln(u.Out, t)
		}
	}
}

func (u TerminalUI) options(s sdk.Screen) {
	for i, o := range s.Options {
		fmt.Fprintf(u.Out, "  %d) %s\n", i+1, o.Label)
	}
}

func (u TerminalUI) resend(s sdk.Screen) string {
	if s.ResendLabel != "" {
		return "r: " + s.ResendLabel + ", "
	}
	return ""
}

// ask prompts and reads one line; it gives up when ctx ends (the SDK's time is up), leaving the
// read to finish in the background, as a terminal read cannot be interrupted.
func (u TerminalUI) ask(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(u.Out, prompt)
	got := make(chan string, 1)
	fail := make(chan error, 1)
	go func() {
		line, err := u.In.ReadString('\n')
		if err != nil && line == "" {
			fail <- err
			return
		}
		got <- strings.TrimSpace(line)
	}()
	select {
	case line := <-got:
		return line, nil
	case err := <-fail:
		return "", fmt.Errorf("shopapp: reading the answer: %w", err)
	case <-ctx.Done():
		fmt.Fprintln(u.Out)
		return "", ctx.Err()
	}
}

// keys turns "1,3" (option numbers) or "sms,mail" (option keys) into option keys.
func keys(s sdk.Screen, line string) []string {
	var out []string
	for _, f := range strings.Split(line, ",") {
		f = strings.TrimSpace(f)
		if n, err := strconv.Atoi(f); err == nil && n >= 1 && n <= len(s.Options) {
			f = s.Options[n-1].Key
		}
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// special reads the answers that mean the same on every screen: c cancels, r asks for a resend.
func special(line string, a sdk.Answer) sdk.Answer {
	switch strings.ToLower(line) {
	case "c", "cancel":
		return sdk.Answer{Cancel: true}
	case "r", "resend":
		return sdk.Answer{Resend: true}
	}
	return a
}

// CommandUI answers each screen with the output of a shell command, for scripts: the command gets
// the screen in its environment (OPEN3DS_UI_TYPE, OPEN3DS_INTERACTION, OPEN3DS_OPTIONS as the
// offered keys comma-separated, OPEN3DS_CHALLENGE_TEXT) and prints the answer: the code, the chosen
// keys, or the HTML form's data; "cancel" and "resend" mean what they say. On an OOB screen the
// command's end is the cardholder's "continue". The answer is never printed.
type CommandUI struct {
	Command string
	Stderr  io.Writer // where the command's own errors go
	// Env is the command's environment before the screen's variables; nil means this process's.
	// A caller whose environment holds secrets the command has no need of leaves them out here.
	Env []string
}

func (u CommandUI) Text(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	out, err := u.run(ctx, s)
	return special(out, sdk.Answer{Entry: out}), err
}

func (u CommandUI) SingleSelect(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	out, err := u.run(ctx, s)
	return special(out, sdk.Answer{Selected: keys(s, out)}), err
}

func (u CommandUI) MultiSelect(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	return u.SingleSelect(ctx, s)
}

func (u CommandUI) OOB(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	out, err := u.run(ctx, s)
	return special(out, sdk.Answer{}), err
}

func (u CommandUI) HTML(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	out, err := u.run(ctx, s)
	return special(out, sdk.Answer{HTMLData: out}), err
}

func (u CommandUI) run(ctx context.Context, s sdk.Screen) (string, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", u.Command)
	var opts []string
	for _, o := range s.Options {
		opts = append(opts, o.Key)
	}
	env := u.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], "OPEN3DS_UI_TYPE="+s.UIType, "OPEN3DS_INTERACTION="+strconv.Itoa(s.Interaction),
		"OPEN3DS_OPTIONS="+strings.Join(opts, ","), "OPEN3DS_CHALLENGE_TEXT="+s.Text)
	cmd.Stderr = u.Stderr
	out, err := cmd.Output()
	if err != nil {
		// The error says how the command ended, never what it printed.
		return "", fmt.Errorf("shopapp: the answer command: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
