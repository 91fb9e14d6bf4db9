// Command localdb runs FerretDB with its embedded SQLite backend behind a
// write gate (see gate.go): a real MongoDB wire-protocol server for local runs
// and tests, whose single-document writes are atomic, on plain TCP, TLS or both.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

const handshakeTimeout = 10 * time.Second

type options struct {
	listen        string
	tlsListen     string
	tlsCert       string
	tlsKey        string
	ungatedListen string
	dataDir       string
	verbose       bool
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.listen, "listen", "", "TCP address to listen on, such as 127.0.0.1:27017")
	flag.StringVar(&o.tlsListen, "tls-listen", "", "TCP address to listen on with TLS (needs -tls-cert and -tls-key)")
	flag.StringVar(&o.tlsCert, "tls-cert", "", "PEM file of the TLS server certificate")
	flag.StringVar(&o.tlsKey, "tls-key", "", "PEM file of the TLS server key")
	flag.StringVar(&o.ungatedListen, "ungated-listen", "",
		"also expose FerretDB's own listener, without the write gate, on this TCP address (for comparisons)")
	flag.StringVar(&o.dataDir, "data", "", "absolute path of the folder that holds the SQLite files")
	flag.BoolVar(&o.verbose, "verbose", false, "log every connection")
	flag.Parse()
	return o
}

func (o options) check() error {
	switch {
	case flag.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	case o.dataDir == "":
		return fmt.Errorf("-data is required")
	case o.listen == "" && o.tlsListen == "":
		return fmt.Errorf("give -listen, -tls-listen or both")
	case o.tlsListen != "" && (o.tlsCert == "" || o.tlsKey == ""):
		return fmt.Errorf("-tls-listen needs -tls-cert and -tls-key")
	}
	return nil
}

// listeners opens the public addresses first, so that a busy port fails before anything else starts.
func (o options) listeners() ([]net.Listener, error) {
	var listeners []net.Listener
	if o.listen != "" {
		l, err := net.Listen("tcp", o.listen)
		if err != nil {
			return nil, fmt.Errorf("cannot listen on %s: %w", o.listen, err)
		}
		listeners = append(listeners, l)
	}
	if o.tlsListen != "" {
		certificate, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate and key: %w", err)
		}
		l, err := net.Listen("tcp", o.tlsListen)
		if err != nil {
			return nil, fmt.Errorf("cannot listen on %s: %w", o.tlsListen, err)
		}
		config := &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}
		listeners = append(listeners, tls.NewListener(l, config))
	}
	return listeners, nil
}

// sqliteOptions are added to FerretDB's own (WAL journal, 10 s busy timeout).
// synchronous(NORMAL): a commit is acknowledged once it is in the WAL file, and
// the disk is flushed at checkpoints, as mongod acknowledges a w:1 write before
// its journal is flushed (every 100 ms). FerretDB's default (FULL) flushes the
// disk at every commit while the gate, and for a new database or collection
// FerretDB's lock on all of them, is held: a dozen flushes for the first write
// to a database, which every concurrent request then waits for. A crash of the
// machine may lose the last commits, never the file.
const sqliteOptions = "?_pragma=synchronous(NORMAL)"

// startFerretDB embeds FerretDB on a loopback port (the -ungated-listen address, else any free one).
func startFerretDB(o options, logger *slog.Logger) (*ferretdb.FerretDB, string, error) {
	address := o.ungatedListen
	if address == "" {
		address = "127.0.0.1:0"
	}
	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: address},
		Handler:   "sqlite",
		SQLiteURL: "file:" + o.dataDir + "/" + sqliteOptions,
		Logger:    logger,
	})
	if err != nil {
		return nil, "", err
	}
	uri, err := url.Parse(db.MongoDBURI()) // its listener is open once New returns
	if err != nil {
		return nil, "", err
	}
	return db, uri.Host, nil
}

// server accepts clients on the public listeners and relays each to FerretDB through the gate.
type server struct {
	backend string
	gate    gate
	log     *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (s *server) serve(l net.Listener) {
	for {
		client, err := l.Accept()
		if err != nil {
			return // closed at shutdown
		}
		go s.handle(client)
	}
}

func (s *server) handle(client net.Conn) {
	s.track(client, true)
	defer s.track(client, false)
	defer client.Close()
	if tlsConn, ok := client.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
		err := tlsConn.HandshakeContext(ctx)
		cancel()
		if err != nil {
			s.log.Info("TLS handshake failed", slog.String("error", err.Error()))
			return
		}
	}
	backend, err := net.Dial("tcp", s.backend)
	if err != nil {
		s.log.Warn("cannot reach the embedded FerretDB", slog.String("error", err.Error()))
		return
	}
	defer backend.Close()
	s.log.Info("connection started", slog.String("client", client.RemoteAddr().String()))
	(&relay{client: client, backend: backend, gate: s.gate, log: s.log}).run()
}

func (s *server) track(conn net.Conn, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if open {
		s.conns[conn] = struct{}{}
	} else {
		delete(s.conns, conn)
	}
}

func (s *server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for conn := range s.conns {
		conn.Close()
	}
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
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
	listeners, err := o.listeners()
	if err != nil {
		fail(err)
	}
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		fail(err)
	}

	// FerretDB logs every error answer (such as the drivers' endSessions, which it lacks) as a warning.
	gateLevel, ferretLevel := slog.LevelWarn, slog.LevelError
	if o.verbose {
		gateLevel, ferretLevel = slog.LevelInfo, slog.LevelInfo
	}
	db, backend, err := startFerretDB(o, newLogger(ferretLevel))
	if err != nil {
		fail(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if err := db.Run(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "localdb: FerretDB stopped: %s\n", err)
		}
	}()

	s := &server{backend: backend, gate: newGate(), log: newLogger(gateLevel).With(slog.String("name", "gate")),
		conns: map[net.Conn]struct{}{}}
	for _, l := range listeners {
		go s.serve(l)
	}
	<-ctx.Done()
	for _, l := range listeners {
		l.Close()
	}
	s.closeAll()
	<-stopped
}
