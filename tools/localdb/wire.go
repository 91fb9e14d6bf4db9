package main

// Just enough of the MongoDB wire protocol to relay messages whole and to read
// the command name of a request:
// https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	headerLen  = 16
	maxMessage = 48_000_000 // maxMessageSizeBytes in FerretDB's hello reply

	opQuery = 2004
	opMsg   = 2013

	flagChecksumPresent = 1 << 0
	flagMoreToCome      = 1 << 1
)

var errMalformed = errors.New("malformed message")

// message is one wire message as read, header included.
type message []byte

func (m message) int32At(offset int) int32 {
	return int32(binary.LittleEndian.Uint32(m[offset:]))
}

func (m message) opCode() int32 { return m.int32At(12) }

// moreToCome is true for an OP_MSG after which the sender sends more without
// waiting: a request that wants no reply, or a reply with more replies to follow.
func (m message) moreToCome() bool {
	return m.opCode() == opMsg && len(m) >= headerLen+4 && m.int32At(headerLen)&flagMoreToCome != 0
}

// readMessage reads one whole message; io.EOF when the peer closed between messages.
func readMessage(r *bufio.Reader) (message, error) {
	header, err := r.Peek(headerLen)
	if err != nil {
		if errors.Is(err, io.EOF) && len(header) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	length := int(binary.LittleEndian.Uint32(header))
	if length < headerLen || length > maxMessage {
		return nil, fmt.Errorf("%w: length %d", errMalformed, length)
	}
	m := make(message, length)
	if _, err := io.ReadFull(r, m); err != nil {
		return nil, err
	}
	return m, nil
}

// commandName is the first key of an OP_MSG's body document (its section of kind 0).
func (m message) commandName() (string, error) {
	body := m[headerLen:]
	if len(body) < 5 {
		return "", errMalformed
	}
	end := len(body)
	if binary.LittleEndian.Uint32(body)&flagChecksumPresent != 0 {
		end -= 4
	}
	for offset := 4; offset < end; {
		kind := body[offset]
		offset++
		if offset+4 > end {
			return "", errMalformed
		}
		size := int(binary.LittleEndian.Uint32(body[offset:]))
		if size < 5 || offset+size > end {
			return "", errMalformed
		}
		if kind == 0 {
			return firstKey(body[offset : offset+size])
		}
		if kind != 1 {
			return "", errMalformed
		}
		offset += size // a document sequence: its size counts itself
	}
	return "", errMalformed
}

// firstKey is the name of a BSON document's first element: type byte, then a NUL-terminated name.
func firstKey(document []byte) (string, error) {
	if len(document) < 6 || document[4] == 0 {
		return "", errMalformed
	}
	name, _, found := bytes.Cut(document[5:], []byte{0})
	if !found {
		return "", errMalformed
	}
	return string(name), nil
}
