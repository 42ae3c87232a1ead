package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto/server"
)

// ReceiversCommand manages the receivers of a server's database:
//
//	pixauto receivers create <name> --cnpj … --ispb … [--branch …] --account … [--account-type CACC]
//	pixauto receivers list
//	pixauto receivers key <receiver-id>        a new API key
//	pixauto receivers revoke-key <key-id>      (the key's first 16 characters)
//
// Keys are printed once and stored hashed.
type ReceiversCommand struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

const receiversUsage = `Usage:

	pixauto receivers create <name> --cnpj CNPJ --ispb ISPB --branch BRANCH --account NUMBER [--account-type CACC|SVGS|TRAN]
	pixauto receivers list
	pixauto receivers key <receiver-id>
	pixauto receivers revoke-key <key-id>

Every subcommand takes --database-url (PIXAUTO_DATABASE_URL; default pixauto.db).
`

// Run runs a receivers subcommand.
func (c *ReceiversCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, receiversUsage)
		return flag.ErrHelp
	}
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	fs := flag.NewFlagSet("receivers "+args[0], flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	dbDefault := getenv("PIXAUTO_DATABASE_URL")
	if dbDefault == "" {
		dbDefault = "pixauto.db"
	}
	db := fs.String("database-url", dbDefault, "postgres://… or a SQLite file (PIXAUTO_DATABASE_URL)")
	cnpj := fs.String("cnpj", "", "the receiver's CNPJ (the consents' creditor)")
	ispb := fs.String("ispb", "", "the ISPB of the receiver's bank (8 digits)")
	branch := fs.String("branch", "", "the account's branch (4 digits; required for CACC and SVGS)")
	number := fs.String("account", "", "the account number (digits)")
	accType := fs.String("account-type", "CACC", "CACC, SVGS or TRAN")
	sub := args[0]
	// Flags may come before or after the positional argument.
	var positional []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	want := map[string]int{"create": 1, "list": 0, "key": 1, "revoke-key": 1}
	n, ok := want[sub]
	if !ok {
		fmt.Fprint(c.Stderr, receiversUsage)
		return fmt.Errorf("receivers: unknown subcommand %q", sub)
	}
	if len(positional) != n {
		fmt.Fprint(c.Stderr, receiversUsage)
		return fmt.Errorf("receivers %s: %d argument(s) expected, got %d", sub, n, len(positional))
	}
	st, _, err := openStore(ctx, *db)
	if err != nil {
		return fmt.Errorf("receivers: %w", err)
	}
	defer st.Close()
	now := time.Now()
	switch sub {
	case "create":
		in := server.ReceiverInput{Name: positional[0], CNPJ: *cnpj, Account: consent.Account{
			ISPB: *ispb, Issuer: *branch, Number: *number, AccountType: consent.AccountType(*accType),
		}}
		rcv, key, err := server.CreateReceiver(ctx, st, in, now, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "Receiver %q created: id %s\nAPI key (shown once; store it now):\n\n  %s\n", rcv.Name, rcv.ID, key)
	case "list":
		rcvs, err := st.ListReceivers(ctx)
		if err != nil {
			return err
		}
		for _, r := range rcvs {
			fmt.Fprintf(c.Stdout, "%s  %s  %s  %s/%s/%s/%s  %s\n", r.ID, r.CNPJ, r.CreatedAt.Format(time.RFC3339),
				r.Account.ISPB, r.Account.Issuer, r.Account.Number, r.Account.AccountType, r.Name)
		}
	case "key":
		key, err := server.IssueAPIKey(ctx, st, positional[0], now, nil)
		if err != nil {
			return fmt.Errorf("receivers key: %w", err)
		}
		fmt.Fprintf(c.Stdout, "New API key of %s (shown once):\n\n  %s\n", positional[0], key)
	case "revoke-key":
		if err := st.RevokeAPIKey(ctx, positional[0], now); err != nil {
			return fmt.Errorf("receivers revoke-key: %w", err)
		}
		fmt.Fprintf(c.Stdout, "Key %s revoked.\n", positional[0])
	}
	return nil
}
