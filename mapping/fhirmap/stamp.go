package fhirmap

import (
	"bytes"
	"strconv"
	"time"

	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/order"
)

// The FHIR resources a client posts are stored as posted, with the id and meta the
// server assigns; reads and writes answer them with the order's current status. These
// functions make those edits on the JSON text with package jsontext: one pass checks
// the syntax, drops insignificant whitespace and notes where each top-level member is,
// then the members are copied with the server's in place of the client's. Nothing is
// decoded into values, so every other element (numbers, strings with their escapes,
// extensions) is kept as sent.

// WithMeta returns the resource JSON with its id and meta.versionId and
// meta.lastUpdated set by the server, and every other element, the rest of meta
// included, kept as sent (without insignificant whitespace). resourceType, id and meta
// come first; id and meta replace any the resource had.
func WithMeta(resource []byte, id string, version int, at time.Time) ([]byte, error) {
	obj, err := jsontext.Compact(resource)
	if err != nil {
		return nil, err
	}
	return appendMeta(make([]byte, 0, len(obj.Bytes())+len(id)+80), obj, id, version, at), nil
}

func appendMeta(out []byte, obj jsontext.Object, id string, version int, at time.Time) []byte {
	out = obj.AppendMembers(append(out, '{'), "resourceType")
	out = order.AppendJSONString(jsontext.AppendName(out, "id"), id)
	out = append(jsontext.AppendName(out, "meta"), '{')
	out = strconv.AppendInt(append(jsontext.AppendName(out, "versionId"), '"'), int64(version), 10)
	out = append(out, '"')
	out = order.AppendJSONString(jsontext.AppendName(out, "lastUpdated"), at.UTC().Format(time.RFC3339Nano))
	if m, ok := obj.Last("meta"); ok { // the one a decoder would read
		if meta, ok := m.Object(); ok {
			out = meta.AppendMembersExcept(out, "versionId", "lastUpdated")
		}
	}
	out = append(out, '}')
	out = obj.AppendMembersExcept(out, "resourceType", "id", "meta")
	return append(out, '}')
}

// WithStatus returns the resource JSON with its status element set (where it was, or
// last), every other element kept as sent (without insignificant whitespace).
func WithStatus(resource []byte, status string) ([]byte, error) {
	obj, err := jsontext.Compact(resource)
	if err != nil {
		return nil, err
	}
	value := order.AppendJSONString(make([]byte, 0, len(status)+2), status)
	return obj.AppendSet(make([]byte, 0, len(obj.Bytes())+len(value)+10), "status", value), nil
}

// StampRequest is WithMeta for a ServiceRequest a client sent, which is stored so, and
// also returns it as it is served (renderServiceRequest): with status, the status of
// its order. served is stored itself when the request already has that status.
func StampRequest(resource []byte, id string, version int, at time.Time, status string) (stored, served []byte, err error) {
	obj, err := jsontext.Compact(resource)
	if err != nil {
		return nil, nil, err
	}
	stored = appendMeta(make([]byte, 0, len(obj.Bytes())+len(id)+80), obj, id, version, at)
	if hasStatus(obj, status) {
		return stored, stored, nil
	}
	served, err = WithStatus(stored, status)
	return stored, served, err
}

// hasStatus reports whether the object has one status member and its value is status,
// written as order.AppendJSONString writes it.
func hasStatus(obj jsontext.Object, status string) bool {
	var val []byte
	for m := range obj.Members() {
		if m.Is("status") {
			if val != nil {
				return false
			}
			val = m.Value()
		}
	}
	return val != nil && bytes.Equal(val, order.AppendJSONString(nil, status))
}
