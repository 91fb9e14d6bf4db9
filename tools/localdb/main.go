// Command localdb runs FerretDB with its embedded SQLite backend: a real
// MongoDB wire-protocol server for local runs and tests, on plain TCP, TLS or both.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

type options struct {
	listen    string
	tlsListen string
	tlsCert   string
	tlsKey    string
	dataDir   string
	verbose   bool
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.listen, "listen", "", "TCP address to listen on, such as 127.0.0.1:27017")
	flag.StringVar(&o.tlsListen, "tls-listen", "", "TCP address to listen on with TLS (needs -tls-cert and -tls-key)")
	flag.StringVar(&o.tlsCert, "tls-cert", "", "PEM file of the TLS server certificate")
	flag.StringVar(&o.tlsKey, "tls-key", "", "PEM file of the TLS server key")
	flag.StringVar(&o.dataDir, "data", "", "absolute path of the folder that holds the SQLite files")
	flag.BoolVar(&o.verbose, "verbose", false, "log every connection")
	flag.Parse()
	return o
}

func (o options) check() error {
	switch {
	case o.dataDir == "":
		return fmt.Errorf("-data is required")
	case o.listen == "" && o.tlsListen == "":
		return fmt.Errorf("give -listen, -tls-listen or both")
	case o.tlsListen != "" && (o.tlsCert == "" || o.tlsKey == ""):
		return fmt.Errorf("-tls-listen needs -tls-cert and -tls-key")
	}
	return nil
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "localdb: %s\n", err)
	os.Exit(1)
}

func main() {
	o := parseFlags()
	if err := o.check(); err != nil {
		fail(err)
	}
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		fail(err)
	}

	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	db, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP:         o.listen,
			TLS:         o.tlsListen,
			TLSCertFile: o.tlsCert,
			TLSKeyFile:  o.tlsKey,
		},
		Handler:   "sqlite",
		SQLiteURL: "file:" + o.dataDir + "/",
		Logger:    logger,
	})
	if err != nil {
		fail(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := db.Run(ctx); err != nil {
		fail(err)
	}
}
