package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/demoweb"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

// runDemoWeb is `demo -web`: the page of package demoweb, each of its
// worlds built like the transcript's (newDemoWorld) with the console
// behind the page and the fake enforcing Telegram's flood limits.
func runDemoWeb(listen, lang, dataDir string, verbose bool, stdout, stderr io.Writer) error {
	log := zerolog.New(stderr).Level(zerolog.WarnLevel)
	if verbose {
		log = NewLogger(config.Log{Level: "debug", Format: "console"}, stderr)
	}
	srv, err := newDemoWeb(listen, lang, filepath.Join(dataDir, "web"), log, true, 700*time.Millisecond)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "%s\n  %s\n%s\n", map[string]string{"zh": "演示页面：在浏览器中打开", "en": "The demo page: open this in a browser"}[lang],
		srv.URL(), map[string]string{"zh": "按 Ctrl-C 结束。", "en": "Press Ctrl-C to stop."}[lang])
	return demoWebServe(srv)
}

// demoWebServe keeps the page running until Ctrl-C (a test replaces it).
var demoWebServe = func(*demoweb.Server) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// newDemoWeb serves the web demo on listen; each reset builds a new
// world in dir. realLimits as in demoWorldOptions; stepDelay spaces a
// playing script's actions.
func newDemoWeb(listen, lang, dir string, log zerolog.Logger, realLimits bool, stepDelay time.Duration) (*demoweb.Server, error) {
	texts, err := i18n.Load(flows.LangZH)
	if err != nil {
		return nil, err
	}
	return demoweb.New(demoweb.Options{Listen: listen, Lang: lang, Texts: texts, Log: log, StepDelay: stepDelay,
		Start: func(_ context.Context, lang, base string) (*demoweb.World, error) {
			w, err := withFreePort(func(port string) (*demoWorld, error) {
				return newDemoWorld(demoWorldOptions{lang: lang, dataDir: dir, consoleListen: port, consolePublic: base + "/console",
					log: log, realLimits: realLimits})
			})
			if err != nil {
				return nil, err
			}
			console := ""
			if con, ok := w.m.Channel("web").(*web.Channel); ok {
				console = con.Addr()
			}
			return &demoweb.World{Fake: w.fake, Group: demoGroup, GroupTitle: w.groupTitle,
				Lead: w.lead, Technician: w.tech, Resident: w.res, Phone: w.sc.phone, Console: console,
				Play: func(ctx context.Context, p demoweb.Player) error {
					pr := newPrinter(io.Discard, w.groupTitle)
					pr.onScene = p.Scene
					d := &director{fake: w.fake, out: pr, st: w.m.Store, gate: p.Step, picture: p.Picture, settle: time.Minute}
					if _, _, _, _, err := w.scenes(d); err != nil {
						return err
					}
					return d.err
				},
				Close: w.Close}, nil
		}})
}

// withFreePort starts a world with its console on a loopback port that
// was free a moment ago (web.listen wants a port number, not 0). Another
// process may take the port in between: then it tries another one.
func withFreePort(start func(port string) (*demoWorld, error)) (*demoWorld, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		w, err := start(port)
		if errors.Is(err, syscall.EADDRINUSE) && attempt < 5 {
			continue
		}
		return w, err
	}
}

// freePort is a loopback address with a port free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
