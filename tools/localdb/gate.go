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

// readCommands never change data, so they run without the gate. Every other
// command, including ones FerretDB does not know, runs behind it. (aggregate
// is a read: FerretDB v1 refuses the writing stages $out and $merge.)
var readCommands = map[string]bool{
	"aggregate": true, "buildInfo": true, "buildinfo": true, "collStats": true, "connectionStatus": true,
	"count": true, "currentOp": true, "dataSize": true, "dbStats": true, "dbstats": true, "distinct": true,
	"endSessions": true, "explain": true, "find": true, "getCmdLineOpts": true, "getFreeMonitoringStatus": true,
	"getLog": true, "getMore": true, "getParameter": true, "hello": true, "hostInfo": true, "isMaster": true,
	"ismaster": true, "killCursors": true, "listCollections": true, "listCommands": true, "listDatabases": true,
	"listIndexes": true, "logout": true, "ping": true, "saslContinue": true, "saslStart": true,
	"serverStatus": true, "validate": true, "whatsmyuri": true,
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
		replies, err := r.exchange(request, backendReader)
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
	}
}

// exchange sends one request to FerretDB and reads its replies: more than one
// while a reply says moreToCome (exhaust cursors). A request with moreToCome
// wants no reply; FerretDB v1 answers it anyway, so that answer is dropped.
func (r *relay) exchange(request message, backendReader *bufio.Reader) ([]message, error) {
	if gated(request) {
		r.gate.lock()
		defer r.gate.unlock()
	}
	if err := r.backend.SetDeadline(time.Now().Add(replyTimeout)); err != nil {
		return nil, err
	}
	if _, err := r.backend.Write(request); err != nil {
		return nil, err
	}
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
