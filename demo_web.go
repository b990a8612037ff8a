package main

import (
	"errors"
	"io"
)

func runDemoWeb(listen, lang, dataDir string, verbose bool, stdout, stderr io.Writer) error {
	return errors.New("demo -web: not built yet")
}
