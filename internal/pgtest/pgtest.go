// Package pgtest gives tests a database of their own on a real PostgreSQL
// server: the one named by REPAIRBOT_PG_DSN (CI starts a throwaway cluster
// with .ci/pg-start and exports it). Each call creates a database with a
// random name and drops it when the test ends, so test packages share one
// server and run in parallel.
//
// Without REPAIRBOT_PG_DSN the test is skipped with a message saying how to
// run it; with REPAIRBOT_PG_REQUIRED=1 (CI) it fails instead, so a CI run
// can never pass by skipping the PostgreSQL suites.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Environment variables.
const (
	// EnvDSN names the server: a DSN of a role that may create databases.
	EnvDSN = "REPAIRBOT_PG_DSN"
	// EnvRequired, set to 1, turns a missing server into a test failure.
	EnvRequired = "REPAIRBOT_PG_REQUIRED"
)

// HowTo is what a skipped test says.
const HowTo = `no PostgreSQL server: set ` + EnvDSN + ` (a DSN of a role that may create databases), ` +
	`or start a throwaway one with eval "$(.ci/pg-start)" (root, Debian's postgresql) and .ci/pg-stop afterwards; ` +
	EnvRequired + `=1 makes this a failure instead of a skip`

// ServerDSN returns the server's DSN, or skips (fails when required) the
// test when there is none.
func ServerDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn != "" {
		return dsn
	}
	if os.Getenv(EnvRequired) == "1" {
		tb.Fatal("pgtest: " + HowTo)
	}
	tb.Skip("pgtest: " + HowTo)
	return ""
}

// DSN creates an empty database for this test and returns a DSN for it;
// the database is dropped (with any connection still open to it) when the
// test and its cleanups end.
func DSN(tb testing.TB) string {
	tb.Helper()
	return create(tb, "")
}

// FromTemplate is DSN for a database that starts as a copy of a template
// prepared once per server for key: the first caller (of any test process)
// creates it under a temporary name, runs prepare on its DSN (migrations,
// say) and renames it rbtmpl_<key>; later callers copy it, which takes
// milliseconds where preparing takes a second. key must name what prepare
// does (its version): a template is kept on the server for the next run,
// one per key.
func FromTemplate(tb testing.TB, key string, prepare func(ctx context.Context, dsn string) error) string {
	tb.Helper()
	server := ServerDSN(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", Redact(server), err)
	}
	defer admin.Close(context.Background())
	name, err := ensureTemplate(ctx, admin, server, key, prepare)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return create(tb, name)
}

// ensureTemplate makes the template database of key if there is none and
// returns its name.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, server, key string, prepare func(ctx context.Context, dsn string) error) (string, error) {
	name := "rbtmpl_" + key
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := randomName("rbbuild_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	dsn, err := WithDatabase(server, building)
	if err == nil {
		err = prepare(ctx, dsn)
	}
	if err == nil {
		_, err = admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
	}
	if err != nil {
		// Another process renamed its copy first (42P04), or prepare
		// failed: this copy goes.
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42P04" {
			return "", fmt.Errorf("prepare template %s: %w", name, err)
		}
	}
	return name, nil
}

// Reused is FromTemplate for suites of many small tests: the database
// comes from a pool of this process's copies of the template, emptied
// (every table but keep truncated, identities restarted) when the test
// ends and handed to the next test, instead of a new copy per test
// (copying takes about half a second; emptying a few milliseconds). The
// copies are named rbpool_<key>_<n>, each claimed by the process using
// it with an advisory lock on a connection it keeps, so concurrent test
// processes use different ones and a later run reuses them: a server
// keeps as many as ever ran at once. The test must close every connection
// it opened to the database before its cleanups end (a store's Close);
// a copy that cannot be emptied is dropped.
func Reused(tb testing.TB, key string, keep []string, prepare func(ctx context.Context, dsn string) error) string {
	tb.Helper()
	server := ServerDSN(tb)
	p := poolFor(key)
	name, err := p.get(server, keep, prepare)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { p.put(server, name) })
	dsn, err := WithDatabase(server, name)
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

var (
	poolsMu sync.Mutex
	pools   = map[string]*dbPool{}
)

// dbPool is this process's copies of one template.
type dbPool struct {
	key   string
	mu    sync.Mutex
	admin *pgx.Conn // holds the slot locks for the life of the process
	free  []string
	next  int
	keep  []string
	// conns are kept connections to the copies, for emptying them, and
	// the statement that does it.
	cmu   sync.Mutex
	conns map[string]*pgx.Conn
	reset map[string]string
}

func poolFor(key string) *dbPool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	p := pools[key]
	if p == nil {
		p = &dbPool{key: key}
		pools[key] = p
	}
	return p
}

// slotLock is the first key of the slot locks.
const slotLock = 0x72627431

func (p *dbPool) get(server string, keep []string, prepare func(ctx context.Context, dsn string) error) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep = keep
	if n := len(p.free); n > 0 {
		name := p.free[n-1]
		p.free = p.free[:n-1]
		return name, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if p.admin == nil {
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			return "", fmt.Errorf("connect to %s: %w", Redact(server), err)
		}
		p.admin = c
	}
	for ; ; p.next++ {
		var ok bool
		if err := p.admin.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2) # $3)`, slotLock, p.key, p.next).Scan(&ok); err != nil {
			return "", err
		}
		if !ok {
			continue // another process's slot
		}
		name := fmt.Sprintf("rbpool_%s_%d", p.key, p.next)
		p.next++
		var exists bool
		if err := p.admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			return "", err
		}
		if exists && p.empty(ctx, server, name) == nil {
			return name, nil
		}
		_, _ = p.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		tmpl, err := ensureTemplate(ctx, p.admin, server, p.key, prepare)
		if err != nil {
			return "", err
		}
		if _, err := p.admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl); err != nil {
			return "", fmt.Errorf("create database: %w", err)
		}
		return name, nil
	}
}

// empty deletes the rows of every table of the database but keep and
// restarts its identity columns. DELETE, not TRUNCATE: a test leaves a few
// rows in each table, and TRUNCATE makes new files for every table and
// index (half a second for this schema, where DELETE takes milliseconds).
func (p *dbPool) empty(ctx context.Context, server, name string) (err error) {
	p.cmu.Lock()
	c, sql := p.conns[name], p.reset[name]
	delete(p.conns, name) // this call's until it is done
	p.cmu.Unlock()
	if c == nil {
		dsn, err := WithDatabase(server, name)
		if err != nil {
			return err
		}
		if c, err = pgx.Connect(ctx, dsn); err != nil {
			return err
		}
	}
	defer func() {
		p.cmu.Lock()
		defer p.cmu.Unlock()
		if p.conns == nil {
			p.conns, p.reset = map[string]*pgx.Conn{}, map[string]string{}
		}
		if err != nil {
			c.Close(context.Background())
			delete(p.conns, name)
			return
		}
		p.conns[name], p.reset[name] = c, sql
	}()
	if sql == "" {
		err = c.QueryRow(ctx, `SELECT 'SET lock_timeout = ''5s''; SET session_replication_role = replica; ' ||
			coalesce((SELECT string_agg('DELETE FROM ' || quote_ident(tablename), '; ') FROM pg_tables
				WHERE schemaname = 'public' AND NOT tablename = ANY($1)), '') || '; ' ||
			coalesce((SELECT string_agg('ALTER TABLE ' || quote_ident(c.relname) || ' ALTER COLUMN ' || quote_ident(a.attname) || ' RESTART', '; ')
				FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'public' AND a.attidentity <> '' AND NOT c.relname = ANY($1)), '') || '; RESET ALL'`, p.keep).Scan(&sql)
		if err != nil {
			return err
		}
	}
	_, err = c.Exec(ctx, sql)
	return err
}

// put empties a database a test is done with and keeps it for the next.
func (p *dbPool) put(server, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.empty(ctx, server, name); err != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.admin != nil {
			_, _ = p.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		return // the slot stays locked; a later get makes a new copy in another
	}
	p.mu.Lock()
	p.free = append(p.free, name)
	p.mu.Unlock()
}

func randomName(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// create makes a database for this test, a copy of template when it is
// not empty, dropped when the test ends.
func create(tb testing.TB, template string) string {
	tb.Helper()
	server := ServerDSN(tb)
	name := randomName("rbtest_")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", Redact(server), err)
	}
	defer admin.Close(context.Background())
	sql := "CREATE DATABASE " + name
	if template != "" {
		sql += " TEMPLATE " + template
	}
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, sql)
		var pe *pgconn.PgError
		// 55006: the template is being accessed (a concurrent copy's
		// moment); it passes.
		if err == nil || !errors.As(err, &pe) || pe.Code != "55006" || attempt >= 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := WithDatabase(server, name)
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// WithDatabase returns dsn pointed at another database; dsn is a URL
// (postgres://...) or keyword/value pairs (host=... user=...).
func WithDatabase(dsn, database string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("pgtest: %s is not a URL: %w", EnvDSN, err)
		}
		u.Path = "/" + database
		return u.String(), nil
	}
	return dsn + " dbname=" + database, nil // a later keyword wins
}

// Redact hides a password in a DSN, for messages.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	if strings.Contains(dsn, "password=") {
		return "(a DSN with a password)"
	}
	return dsn
}
