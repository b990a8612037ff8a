package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/ops"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store"
)

// outboxLockWait is how long `repairbot outbox` waits for the database
// lock before it asks the running bot instead.
const outboxLockWait = 500 * time.Millisecond

// outboxCommand is `repairbot outbox list` and `repairbot outbox requeue`:
// the failed outgoing messages, listed or sent again. While the bot runs it
// holds the database, so the command goes through its ops endpoint (with
// OPS_TOKEN, as `repairbot backup` does); with the bot stopped it works on
// the file.
func outboxCommand(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("outbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.toml", "configuration file (TOML); [store] and [ops] are used")
	errText := fs.String("error", "", "requeue: every failed message whose error contains this text")
	all := fs.Bool("all", false, "requeue: every failed message")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: repairbot outbox [-config config.toml] list\n"+
			"       repairbot outbox [-config config.toml] requeue <id>... | -error <text> | -all")
		fs.PrintDefaults()
	}
	// Flags may come before or after the verb: `outbox -config c.toml requeue -all`.
	var verb string
	rest := args
	for range 2 {
		if verb == "" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			verb, rest = rest[0], rest[1:]
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		rest = fs.Args()
	}
	if verb == "" {
		fs.Usage()
		return errors.New("outbox: say list or requeue")
	}
	var req ops.RequeueRequest
	switch verb {
	case "list":
		if len(rest) > 0 || *errText != "" || *all {
			return errors.New("outbox list: takes no arguments")
		}
	case "requeue":
		for _, a := range rest {
			id, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				return fmt.Errorf("outbox requeue: %q is not a message id (the first column of `repairbot outbox list`)", a)
			}
			req.IDs = append(req.IDs, id)
		}
		req.Error, req.All = *errText, *all
		if len(req.IDs) == 0 && req.Error == "" && !req.All {
			fs.Usage()
			return errors.New("outbox requeue: name the messages: ids, -error <text> or -all")
		}
	default:
		fs.Usage()
		return fmt.Errorf("outbox: unknown command %q (list, requeue)", verb)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil && !onlyOtherProblems(err, "store.", "ops.") {
		return err
	}
	st, err := store.Open(cfg.Store.DBPath(), store.Options{LockTimeout: outboxLockWait, DefaultArea: cfg.DefaultArea()})
	switch {
	case errors.Is(err, store.ErrLocked):
		if cfg.Ops.Listen == "" {
			return fmt.Errorf("outbox: %s is held by the running bot and [ops] listen is not set, so it cannot be asked; "+
				"set [ops] listen and token, or stop the bot and run this again", cfg.Store.DBPath())
		}
		return outboxViaBot(cfg, verb, req, stdout)
	case err != nil:
		return err
	}
	defer st.Close()
	rows, err := st.Rows(outbox.StatusFailed)
	if err != nil {
		return err
	}
	if verb == "list" {
		return printFailed(stdout, ops.FailedRows(rows))
	}
	done, err := st.Requeue(outbox.Select(rows, req.IDs, req.Error, req.All), now())
	if err != nil {
		return err
	}
	var ids []uint64
	for _, r := range done {
		ids = append(ids, r.ID)
	}
	return printRequeued(stdout, ids, "they go out when the bot starts")
}

// onlyOtherProblems reports whether every problem of a configuration
// error concerns keys outside the prefixes the command reads.
func onlyOtherProblems(err error, prefixes ...string) bool {
	probs := config.Problems(err)
	if len(probs) == 0 {
		return false
	}
	for _, p := range probs {
		if p.Key == "" {
			return false
		}
		for _, pre := range prefixes {
			if strings.HasPrefix(p.Key, pre) {
				return false
			}
		}
	}
	return true
}

func printFailed(w io.Writer, rows []ops.FailedRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no failed messages")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED (UTC)\tFAILED (UTC)\tTO\tKIND\tTICKET\tATTEMPTS\tERROR")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Created.UTC().Format("2006-01-02 15:04"),
			r.Failed.UTC().Format("2006-01-02 15:04"), r.To, r.Kind, r.Ticket, r.Attempts, r.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d failed; send them again with: repairbot outbox requeue <id>... | -error <text> | -all\n", len(rows))
	return err
}

func printRequeued(w io.Writer, ids []uint64, when string) error {
	if len(ids) == 0 {
		_, err := fmt.Fprintln(w, "no failed message matched; nothing re-queued")
		return err
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.FormatUint(id, 10)
	}
	_, err := fmt.Fprintf(w, "re-queued %d: %s; %s\n", len(ids), strings.Join(strs, " "), when)
	return err
}

// outboxViaBot asks the running bot's ops endpoint.
func outboxViaBot(cfg config.Config, verb string, req ops.RequeueRequest, stdout io.Writer) error {
	if cfg.Ops.Token == "" {
		return errors.New("outbox: the bot is running and its endpoint needs ops.token: set OPS_TOKEN in this shell's environment as for the bot")
	}
	host := cfg.Ops.Listen
	if strings.HasPrefix(host, ":") {
		host = "127.0.0.1" + host
	}
	method, path, body := http.MethodGet, "/outbox/failed", []byte(nil)
	if verb == "requeue" {
		method, path = http.MethodPost, "/outbox/requeue"
		body, _ = json.Marshal(req)
	}
	hr, err := http.NewRequest(method, "http://"+host+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Authorization", "Bearer "+cfg.Ops.Token)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(hr)
	if err != nil {
		return fmt.Errorf("outbox: asking the running bot at ops.listen %s: %w", cfg.Ops.Listen, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("outbox: the running bot answered HTTP %d: %s", resp.StatusCode, e.Error)
	}
	if verb == "list" {
		var rows []ops.FailedRow
		if err := json.Unmarshal(raw, &rows); err != nil {
			return fmt.Errorf("outbox: the running bot's answer: %w", err)
		}
		return printFailed(stdout, rows)
	}
	var ans ops.RequeueAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("outbox: the running bot's answer: %w", err)
	}
	return printRequeued(stdout, ans.Requeued, "the running bot sends them now")
}
