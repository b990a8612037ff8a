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
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	server := ServerDSN(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "rbtest_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", Redact(server), err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
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
