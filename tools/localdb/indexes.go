package main

// createIndexes as MongoDB answers it when some of the requested indexes
// already exist. FerretDB v1 drops requested indexes that already exist from
// its list by position, which goes wrong from the second one on (it panics
// with "slice bounds out of range" and closes the connection, or creates the
// wrong ones). The gate, which holds the write gate around the whole command,
// reads the collection's indexes first and then:
//   - answers MongoDB's conflict errors itself: same name with another key
//     (IndexKeySpecsConflict), same name and key with other options or same
//     key under another name (IndexOptionsConflict);
//   - answers {numIndexesBefore: n, numIndexesAfter: n, note: "all indexes
//     already exist", ok: 1} when every requested index exists as asked;
//   - otherwise forwards only the new ones, so FerretDB never sees an index
//     that exists (its reply then counts them as MongoDB does).
// Reply fields: https://www.mongodb.com/docs/manual/reference/command/createIndexes/#output

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

const (
	codeNamespaceNotFound      = 26
	codeIndexOptionsConflict   = 85
	codeIndexKeySpecsConflict  = 86
	listIndexesRequestID       = -1 // the gate's own request on the backend connection
	allIndexesAlreadyExistNote = "all indexes already exist"
)

// notOptions are the fields of an index specification that are not compared as options:
// the key and name are compared apart, and MongoDB ignores v, background and ns.
var notOptions = map[string]bool{"key": true, "name": true, "v": true, "background": true, "ns": true}

// indexSpec is one index specification, as requested or as listed.
type indexSpec struct {
	name    string
	key     string // canonical text of the key pattern
	options string // canonical text of the other fields that count
	raw     wirebson.RawDocument
}

// indexCommand is a createIndexes request the gate understands: one body
// section, no checksum, a reply wanted, and an array of specification documents.
type indexCommand struct {
	requestID  int32
	body       *wirebson.Document
	database   string
	collection string
	requested  []indexSpec
}

// createIndexes answers or rewrites a createIndexes request (see above). It
// returns the reply to send to the client, or nil and the request to forward.
func (r *relay) createIndexes(request message, backendReader *bufio.Reader) (message, message, error) {
	command, ok := parseIndexCommand(request)
	if !ok {
		return nil, request, nil // FerretDB answers what it makes of it
	}
	existing, ok, err := r.listIndexes(command, backendReader)
	if err != nil || !ok {
		return nil, request, err
	}
	fresh, conflict := newIndexes(command.requested, existing)
	switch {
	case conflict != nil:
		reply, err := replyMessage(command.requestID, conflict)
		return reply, nil, err
	case len(fresh) == 0:
		n := int32(len(existing))
		reply, err := replyMessage(command.requestID, wirebson.MustDocument(
			"numIndexesBefore", n, "numIndexesAfter", n, "note", allIndexesAlreadyExistNote, "ok", float64(1)))
		return reply, nil, err
	case len(fresh) == len(command.requested):
		return nil, request, nil
	}
	forwarded, err := command.with(fresh)
	return nil, forwarded, err
}

// newIndexes are the requested indexes that do not exist yet, or MongoDB's error document for a conflict.
func newIndexes(requested, existing []indexSpec) ([]indexSpec, *wirebson.Document) {
	var fresh []indexSpec
	for _, want := range requested {
		i := slices.IndexFunc(existing, func(have indexSpec) bool { return have.name == want.name })
		if i >= 0 {
			if conflict := sameName(want, existing[i]); conflict != nil {
				return nil, conflict
			}
			continue // exists as asked
		}
		if i = slices.IndexFunc(existing, func(have indexSpec) bool { return have.key == want.key }); i >= 0 {
			return nil, errorDocument(codeIndexOptionsConflict, "IndexOptionsConflict",
				"Index already exists with a different name: "+existing[i].name)
		}
		fresh = append(fresh, want)
	}
	return fresh, nil
}

// sameName is MongoDB's error when an existing index of the same name differs from the requested one, else nil.
func sameName(want, have indexSpec) *wirebson.Document {
	switch {
	case want.key != have.key:
		return errorDocument(codeIndexKeySpecsConflict, "IndexKeySpecsConflict", fmt.Sprintf(
			"An existing index has the same name as the requested index. When index names are not specified, "+
				"they are auto generated and can cause conflicts. Please refer to our documentation. "+
				"Requested index: %s, existing index: %s", want, have))
	case want.options != have.options:
		return errorDocument(codeIndexOptionsConflict, "IndexOptionsConflict", fmt.Sprintf(
			"An equivalent index already exists with the same name but different options. "+
				"Requested index: %s, existing index: %s", want, have))
	}
	return nil
}

func (s indexSpec) String() string {
	text := fmt.Sprintf("{ key: %s, name: %q", s.key, s.name)
	if s.options != "{}" {
		text += ", options: " + s.options
	}
	return text + " }"
}

func errorDocument(code int32, codeName, errmsg string) *wirebson.Document {
	return wirebson.MustDocument("ok", float64(0), "errmsg", errmsg, "code", code, "codeName", codeName)
}

// parseIndexCommand reads a createIndexes request; false when it is not one the gate rewrites.
func parseIndexCommand(request message) (indexCommand, bool) {
	var msg wire.OpMsg
	if request.opCode() != opMsg || msg.UnmarshalBinaryNocopy(request[headerLen:]) != nil || msg.Flags != 0 {
		return indexCommand{}, false
	}
	raw, err := msg.RawDocument()
	if err != nil {
		return indexCommand{}, false
	}
	body, err := raw.Decode()
	if err != nil {
		return indexCommand{}, false
	}
	command := indexCommand{requestID: request.int32At(4), body: body}
	command.collection, _ = body.Get("createIndexes").(string)
	command.database, _ = body.Get("$db").(string)
	indexes, _ := body.Get("indexes").(wirebson.RawArray)
	if command.collection == "" || command.database == "" || indexes == nil {
		return indexCommand{}, false
	}
	requested, ok := specs(indexes)
	command.requested = requested
	return command, ok && len(requested) > 0
}

// specs reads an array of index specifications; false if any is not a document with a key and a name.
func specs(array wirebson.RawArray) ([]indexSpec, bool) {
	values, err := array.Decode()
	if err != nil {
		return nil, false
	}
	var found []indexSpec
	for value := range values.Values() {
		raw, ok := value.(wirebson.RawDocument)
		if !ok {
			return nil, false
		}
		spec, ok := readSpec(raw)
		if !ok {
			return nil, false
		}
		found = append(found, spec)
	}
	return found, true
}

func readSpec(raw wirebson.RawDocument) (indexSpec, bool) {
	document, err := raw.Decode()
	if err != nil {
		return indexSpec{}, false
	}
	name, _ := document.Get("name").(string)
	key, isDocument := document.Get("key").(wirebson.RawDocument)
	if name == "" || !isDocument {
		return indexSpec{}, false
	}
	var options []string
	for field, value := range document.All() {
		if notOptions[field] || (value == false && (field == "unique" || field == "sparse")) {
			continue
		}
		options = append(options, field+": "+canonical(value))
	}
	slices.Sort(options) // MongoDB compares options by name, not by position
	return indexSpec{name: name, key: canonical(key), options: "{" + strings.Join(options, ", ") + "}", raw: raw}, true
}

// canonical is a value's text with every number as a float, so that 1, 1L and 1.0 compare equal, as in MongoDB.
func canonical(value any) string {
	switch v := value.(type) {
	case int32:
		return fmt.Sprint(float64(v))
	case int64:
		return fmt.Sprint(float64(v))
	case float64:
		return fmt.Sprint(v)
	case string:
		return fmt.Sprintf("%q", v)
	case wirebson.RawDocument:
		document, err := v.Decode()
		if err != nil {
			return "?"
		}
		var fields []string
		for field, item := range document.All() {
			fields = append(fields, field+": "+canonical(item))
		}
		return "{ " + strings.Join(fields, ", ") + " }"
	case wirebson.RawArray:
		array, err := v.Decode()
		if err != nil {
			return "?"
		}
		var items []string
		for item := range array.Values() {
			items = append(items, canonical(item))
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return fmt.Sprintf("%v", value)
}

// with is the request with only the given index specifications.
func (c indexCommand) with(indexes []indexSpec) (message, error) {
	array := wirebson.MakeArray(len(indexes))
	for _, spec := range indexes {
		if err := array.Add(spec.raw); err != nil {
			return nil, err
		}
	}
	if err := c.body.Replace("indexes", array); err != nil {
		return nil, err
	}
	return opMsgMessage(c.requestID, 0, c.body)
}

// listIndexes asks FerretDB for the collection's indexes on the relay's own
// connection; none when the collection does not exist; false when the answer
// is an error the gate does not expect (the request is then forwarded as is).
func (r *relay) listIndexes(c indexCommand, backendReader *bufio.Reader) ([]indexSpec, bool, error) {
	request, err := opMsgMessage(listIndexesRequestID, 0,
		wirebson.MustDocument("listIndexes", c.collection, "$db", c.database))
	if err != nil {
		return nil, false, err
	}
	if _, err = r.backend.Write(request); err != nil {
		return nil, false, err
	}
	reply, err := readMessage(backendReader)
	if err != nil {
		return nil, false, err
	}
	document, ok := replyDocument(reply)
	if !ok {
		return nil, false, nil
	}
	if document.Get("ok") != float64(1) {
		return nil, document.Get("code") == int32(codeNamespaceNotFound), nil
	}
	cursor, _ := document.Get("cursor").(wirebson.RawDocument)
	if cursor == nil {
		return nil, false, nil
	}
	fields, err := cursor.Decode()
	if err != nil || fields.Get("id") != int64(0) {
		return nil, false, nil // more indexes than one batch: not the gate's business
	}
	batch, _ := fields.Get("firstBatch").(wirebson.RawArray)
	if batch == nil {
		return nil, false, nil
	}
	found, ok := specs(batch)
	return found, ok, nil
}

func replyDocument(reply message) (*wirebson.Document, bool) {
	var msg wire.OpMsg
	if reply.opCode() != opMsg || msg.UnmarshalBinaryNocopy(reply[headerLen:]) != nil {
		return nil, false
	}
	raw, err := msg.RawDocument()
	if err != nil {
		return nil, false
	}
	document, err := raw.Decode()
	return document, err == nil
}

// replyMessage is an OP_MSG reply to the request of the given id.
func replyMessage(requestID int32, document *wirebson.Document) (message, error) {
	return opMsgMessage(0, requestID, document)
}

// opMsgMessage is a whole OP_MSG with one body section.
func opMsgMessage(requestID, responseTo int32, document *wirebson.Document) (message, error) {
	msg, err := wire.NewOpMsg(document)
	if err != nil {
		return nil, err
	}
	body, err := msg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	m := make(message, headerLen, headerLen+len(body))
	binary.LittleEndian.PutUint32(m[0:], uint32(headerLen+len(body)))
	binary.LittleEndian.PutUint32(m[4:], uint32(requestID))
	binary.LittleEndian.PutUint32(m[8:], uint32(responseTo))
	binary.LittleEndian.PutUint32(m[12:], uint32(opMsg))
	return append(m, body...), nil
}
