// Command pixauto is the pixauto command line.
//
//	pixauto demo        the whole story against an embedded sandbox bank: enrolment, a year of charges, retries
//	pixauto authorize   run a full FAPI-BR authorization against an embedded sandbox bank
//	pixauto serve       the reference server (REST API for receivers), on the sandbox bank or real banks
//	pixauto sandbox     the sandbox bank alone, for other ITPs' tests
//	pixauto receivers   create receivers and their API keys
//	pixauto journey     conformance journeys against the sandbox bank or a configured one, with JUnit XML and JSON reports
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := NewMain(os.Stdout, os.Stderr).Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pixauto:", err)
		}
		os.Exit(1)
	}
}

// Main is the program, with its output streams injected for tests.
type Main struct {
	Stdout, Stderr io.Writer
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdout, stderr io.Writer) *Main { return &Main{Stdout: stdout, Stderr: stderr} }

const usage = `pixauto: Pix Automático for payment initiators (Open Finance Brasil).

Usage:

	pixauto <command> [flags]

Commands:

	demo        the whole story in one command: a receiver, a payer, an enrolment and a
	            year of monthly charges with failures and retries, against the embedded
	            sandbox bank on an accelerated clock, stored in SQLite
	authorize   run a full FAPI-BR v2 authorization against an embedded sandbox bank
	            and print every step
	serve       the reference server: the receivers' REST API, the payer's callback
	            page, signed webhooks; --sandbox runs it on the embedded bank with a
	            demo receiver, on SQLite (pixauto.db)
	sandbox     the sandbox bank alone, on the system clock, printing its URLs
	receivers   create receivers and their API keys (receivers create <name> …)
	journey     run the conformance journeys (adhesions, edit, revoke, reject, cancel,
	            retries) against the embedded sandbox bank or, with -bank-config, a
	            configured one; -junit and -json write reports, -run selects journeys

Run "pixauto <command> -h" for a command's flags.
`

// Run runs the command named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "demo":
		return (&DemoCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "authorize":
		return (&AuthorizeCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "serve":
		return (&ServeCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "sandbox":
		return (&SandboxCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "receivers":
		return (&ReceiversCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "journey":
		return (&JourneyCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	default:
		fmt.Fprint(m.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
