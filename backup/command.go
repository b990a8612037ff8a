package backup

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/store"
)

// lockWait is how long the commands wait for the database lock: a running
// bot never lets go, so waiting longer only delays the answer.
const lockWait = 500 * time.Millisecond

// Command runs `repairbot backup` or `repairbot restore` (name) with the
// arguments after the command name. Results go to stdout; a failure is
// returned (the caller exits non-zero).
func Command(name string, args []string, stdout, stderr io.Writer, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.toml", "configuration file (TOML); only [store] and [backup] are used")
	var force *bool
	switch name {
	case "backup":
		force = fs.Bool("force", false, "replace an existing destination file")
		fs.Usage = func() {
			fmt.Fprintln(stderr, "usage: repairbot backup [-config config.toml] [-force] <dest.db | dest-dir>")
			fs.PrintDefaults()
		}
	case "restore":
		fs.Usage = func() {
			fmt.Fprintln(stderr, "usage: repairbot restore [-config config.toml] <src.db>   (stop the bot first)")
			fs.PrintDefaults()
		}
	default:
		return fmt.Errorf("backup: unknown command %q", name)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%s: expected exactly one file argument, got %d", name, fs.NArg())
	}
	cfg, err := loadConfig(*cfgPath, name, stderr)
	if err != nil {
		return err
	}
	if name == "backup" {
		return runBackup(cfg, fs.Arg(0), *force, stdout, stderr, now())
	}
	return runRestore(cfg, fs.Arg(0), stdout, now())
}

// loadConfig loads the file but tolerates problems outside [store] and
// [backup]: a backup run from cron must not need the bot token.
func loadConfig(path, cmd string, stderr io.Writer) (config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		return cfg, nil
	}
	probs := config.Problems(err)
	if len(probs) == 0 || cfg.Store.DataDir == "" {
		return cfg, err
	}
	var ignored []string
	for _, p := range probs {
		if p.Key == "" || strings.HasPrefix(p.Key, "store.") || strings.HasPrefix(p.Key, "backup.") {
			return cfg, err
		}
		ignored = append(ignored, p.Key)
	}
	fmt.Fprintf(stderr, "repairbot %s: note: ignoring configuration problems that do not concern it (%s)\n", cmd, strings.Join(ignored, ", "))
	return cfg, nil
}

func runBackup(cfg config.Config, dest string, force bool, stdout, stderr io.Writer, now time.Time) error {
	db := cfg.Store.DBPath()
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("backup: no database at %s (check [store] in the configuration): %w", db, err)
	}
	if fi, err := os.Stat(dest); (err == nil && fi.IsDir()) || strings.HasSuffix(dest, string(os.PathSeparator)) {
		dest = filepath.Join(dest, OnDemand.Name(now))
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if same(db, dest) {
		return fmt.Errorf("backup: %s is the database itself", dest)
	}
	if _, err := os.Lstat(dest); err == nil && !force {
		return fmt.Errorf("backup: %s already exists (use -force to replace it)", dest)
	}
	st, err := store.Open(db, store.Options{LockTimeout: lockWait})
	if errors.Is(err, store.ErrLocked) {
		if cfg.Ops.Listen == "" {
			return runningBotHint(cfg, db)
		}
		// The running bot holds the file: ask it for a hot copy through
		// its operations endpoint, then copy that to dest and verify it.
		name, warning, err := askRunningBot(cfg.Ops.Listen, cfg.Ops.Token)
		if err != nil {
			return fmt.Errorf("%w\n(asking the running bot at ops.listen %s failed too: %v)", runningBotHint(cfg, db), cfg.Ops.Listen, err)
		}
		if warning != "" {
			fmt.Fprintf(stderr, "repairbot backup: warning from the running bot: %s\n", warning)
		}
		src := filepath.Join(cfg.BackupDir(), name)
		n, err := copyFile(src, dest)
		if err != nil {
			return fmt.Errorf("backup: copy %s: %w", src, err)
		}
		got, err := copyCounts(dest)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup written by the running bot (hot copy %s): %s (%d bytes): %d tickets, %d people, %d outbox pending\n",
			src, dest, n, got.Tickets, got.People, got.OutboxPending)
		return nil
	}
	if err != nil {
		return err
	}
	want, err := st.Counts()
	if err != nil {
		st.Close()
		return err
	}
	n, err := WriteFile(st, dest)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	got, err := copyCounts(dest)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("backup: the copy %s holds %+v, the database %+v", dest, got, want)
	}
	fmt.Fprintf(stdout, "backup written: %s (%d bytes): %d tickets, %d people, %d outbox pending\n",
		dest, n, got.Tickets, got.People, got.OutboxPending)
	return nil
}

// runningBotHint explains why a running bot's file cannot be copied and
// where its own copies are.
func runningBotHint(cfg config.Config, db string) error {
	dir := cfg.BackupDir()
	newest := "none yet"
	if names, err := List(dir); err == nil && len(names) > 0 {
		newest = filepath.Join(dir, names[len(names)-1])
	}
	return fmt.Errorf("backup: %s is locked by the running bot, so another process cannot read it.\n"+
		"The running bot writes its own backups: directory %s, schedule %q (backup.schedule), keeping %d; newest: %s.\n"+
		"Copy the newest of those, or stop the bot and run this command again",
		db, dir, cfg.Backup.Schedule, cfg.Backup.Keep, newest)
}

func runRestore(cfg config.Config, src string, stdout io.Writer, now time.Time) error {
	db := cfg.Store.DBPath()
	lock := cfg.Store.LockTimeout.Duration
	if lock <= 0 || lock > lockWait {
		lock = lockWait
	}
	res, err := Restore(db, src, lock, now)
	if errors.Is(err, store.ErrLocked) && errors.Is(err, ErrBotRunning) {
		return fmt.Errorf("restore refused: %w", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s (%d bytes): %d tickets, %d people, %d outbox pending\n",
		src, db, res.Bytes, res.Counts.Tickets, res.Counts.People, res.Counts.OutboxPending)
	if res.Aside != "" {
		fmt.Fprintf(stdout, "the previous database is kept at %s\n", res.Aside)
	}
	if res.Counts.OutboxPending > 0 {
		fmt.Fprintf(stdout, "note: %d undelivered messages in the copy will be sent when the bot starts\n", res.Counts.OutboxPending)
	}
	return nil
}

// askRunningBot has the running bot write a hot backup (bbolt Tx.WriteTo,
// consistent while it works) into its backup directory and returns the
// copy's file name and any warning that came with it. The endpoint needs
// ops.token (from the same environment variable as the bot's).
func askRunningBot(listen, token string) (name, warning string, err error) {
	if token == "" {
		return "", "", errors.New("no ops.token in this shell's environment (the bot's POST /backup needs it: set OPS_TOKEN as for the bot)")
	}
	host := listen
	if strings.HasPrefix(host, ":") {
		host = "127.0.0.1" + host
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+host+"/backup", nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var r struct {
		File    string `json:"file"`
		Warning string `json:"warning"`
		Error   string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&r); err != nil {
		return "", "", fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || r.File == "" {
		return "", "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
	}
	if r.File != filepath.Base(r.File) || strings.HasPrefix(r.File, ".") {
		return "", "", fmt.Errorf("the bot answered a file name that is not one: %q", r.File)
	}
	return r.File, r.Warning, nil
}

// copyCounts opens a finished copy, which proves it is a database, and
// counts what it holds.
func copyCounts(dest string) (store.Counts, error) {
	cp, err := store.Open(dest, store.Options{LockTimeout: lockWait})
	if err != nil {
		return store.Counts{}, fmt.Errorf("backup: the copy %s does not open: %w", dest, err)
	}
	defer cp.Close()
	got, err := cp.Counts()
	if err != nil {
		return store.Counts{}, fmt.Errorf("backup: the copy %s is not readable: %w", dest, err)
	}
	return got, nil
}
