package main

// The gate: every client connection is relayed, message by message, to its
// own connection to the embedded FerretDB. A write command holds the one
// gate from the moment its request is sent until its reply has arrived, so
// FerretDB's query-then-write commands (findAndModify, update, delete...) run
// one at a time, as atomic as MongoDB's single-document writes. Reads pass
// concurrently.

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"
)

// replyTimeout bounds how long the gate waits for FerretDB's reply to one
// request (and so how long one write may hold the gate): then both
// connections are closed and the gate released.
const replyTimeout = 60 * time.Second

// slowRequest is how long a request may take, from the moment the gate has read
// it to the moment its reply is written back, before it is logged as slow:
// half the clients' default 2 s read timeout, so that a request that comes near
// it says where its time went (waiting for the gate, in FerretDB, writing back).
const slowRequest = time.Second

// readCommands never write to SQLite, so they run without the gate. Every other
// command, including ones FerretDB does not know, runs behind it. (aggregate
// is a read: FerretDB v1 refuses the writing stages $out and $merge.
// collStats, dbStats and validate are not: FerretDB runs SQLite's ANALYZE for
// them, a write that would make a gated write wait in SQLite's busy loop.)
var readCommands = map[string]bool{
	"aggregate": true, "buildInfo": true, "buildinfo": true, "connectionStatus": true,
	"count": true, "currentOp": true, "dataSize": true, "distinct": true,
	"endSessions": true, "explain": true, "find": true, "getCmdLineOpts": true, "getFreeMonitoringStatus": true,
	"getLog": true, "getMore": true, "getParameter": true, "hello": true, "hostInfo": true, "isMaster": true,
	"ismaster": true, "killCursors": true, "listCollections": true, "listCommands": true, "listDatabases": true,
	"listIndexes": true, "logout": true, "ping": true, "saslContinue": true, "saslStart": true,
	"serverStatus": true, "whatsmyuri": true,
}

// gated says whether a request must hold the gate.
func gated(request message) bool {
	if request.opCode() != opMsg {
		return false // OP_QUERY: FerretDB answers only the handshake and authentication through it
	}
	name, err := request.commandName()
	if err != nil {
		return true // FerretDB answers it with an error; no reason to let it run beside a write
	}
	return !readCommands[name]
}

// gate is a mutex as a channel of one slot.
type gate chan struct{}

func newGate() gate    { return make(gate, 1) }
func (g gate) lock()   { g <- struct{}{} }
func (g gate) unlock() { <-g }

// relay serves one client connection until either side closes it or breaks the protocol.
type relay struct {
	client  net.Conn
	backend net.Conn
	gate    gate
	log     *slog.Logger
}

func (r *relay) run() {
	clientReader := bufio.NewReader(r.client)
	backendReader := bufio.NewReader(r.backend)
	for {
		request, err := readMessage(clientReader)
		if err != nil {
			r.ended(err)
			return
		}
		if op := request.opCode(); op != opMsg && op != opQuery {
			// OP_COMPRESSED is never negotiated (FerretDB's hello offers no compressors), and
			// FerretDB serves no legacy opcode but OP_QUERY: it would close the connection too.
			r.log.Warn("closing a connection that sent an unsupported opcode", slog.Int("opcode", int(op)))
			return
		}
		var times timings
		times.read = time.Now()
		replies, err := r.exchange(request, backendReader, &times)
		if err != nil {
			r.log.Warn("closing a connection: database reply failed", slog.String("error", err.Error()))
			return
		}
		for _, reply := range replies {
			if _, err := r.client.Write(reply); err != nil {
				r.ended(err)
				return
			}
		}
		if total := time.Since(times.read); total >= slowRequest {
			r.slow(request, times, total)
		}
	}
}

// timings are the moments one request passed through the gate.
type timings struct {
	read    time.Time // the whole request had been read from the client
	sent    time.Time // it had been written to FerretDB (after the gate, when gated)
	replied time.Time // FerretDB's last reply to it had been read
}

func (r *relay) slow(request message, times timings, total time.Duration) {
	name, _ := request.commandName()
	r.log.Warn("slow request", slog.String("command", name), slog.Bool("gated", gated(request)),
		slog.Duration("total", total), slog.Duration("waiting_for_gate", times.sent.Sub(times.read)),
		slog.Duration("in_ferretdb", times.replied.Sub(times.sent)),
		slog.Duration("writing_reply", total-times.replied.Sub(times.read)))
}

// exchange sends one request to FerretDB and reads its replies: more than one
// while a reply says moreToCome (exhaust cursors). A request with moreToCome
// wants no reply; FerretDB v1 answers it anyway, so that answer is dropped.
func (r *relay) exchange(request message, backendReader *bufio.Reader, times *timings) ([]message, error) {
	if gated(request) {
		r.gate.lock()
		defer r.gate.unlock()
	}
	if err := r.backend.SetDeadline(time.Now().Add(replyTimeout)); err != nil {
		return nil, err
	}
	if name, _ := request.commandName(); name == "createIndexes" {
		reply, forwarded, err := r.createIndexes(request, backendReader)
		if err != nil || reply != nil {
			times.sent, times.replied = time.Now(), time.Now()
			return []message{reply}, err
		}
		request = forwarded
	}
	if _, err := r.backend.Write(request); err != nil {
		return nil, err
	}
	times.sent = time.Now()
	var replies []message
	for {
		reply, err := readMessage(backendReader)
		if err != nil {
			return nil, err
		}
		if !request.moreToCome() {
			replies = append(replies, reply)
		}
		if !reply.moreToCome() {
			times.replied = time.Now()
			return replies, nil
		}
	}
}

func (r *relay) ended(err error) {
	if !isClosed(err) {
		r.log.Warn("client connection ended", slog.String("error", err.Error()))
	}
}

// isClosed is true for the ordinary ends of a connection: closed by the peer, reset, or closed here.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}
