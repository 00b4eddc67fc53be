package sqlite

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// liveTranscripts keeps the messages of live interactions created by this process, as their
// rows hold them (messageColumns), so that reading a conversation's transcript does not go
// to the table: Agent Assist reads its opening twice per webchat (the suggestions a
// disposition is checked against, and what the completion learns), a sixteenth of the
// cycle's CPU (issue 14's profile), and the SPA and the widget read it on every open.
//
// It is kept as the live cache is (liveCache, whose lock and window it shares): a transcript
// starts with the interaction's creation, which carries all of its messages, and every later
// write of one of its messages (AppendMessage, a record's write carrying notes, UpdateMessage)
// applies its row in commit order, before the writer is handed on. So a kept transcript is the
// table's whole transcript, as long as this process is the only writer of messages (Own; the
// admin command writes none). It is dropped when the live row goes (completion, archive), or
// when it outgrows transcriptRows or transcriptBytes; reads then go to the table.
type liveTranscripts struct {
	by    map[string]*transcript
	bytes int
}

// transcript is one interaction's kept message rows, in ID order.
type transcript struct {
	rows  [][]any
	bytes int
}

const (
	// transcriptRows and transcriptBytes bound one kept transcript: past either it is dropped.
	// A webchat has tens of messages; Agent Assist reads a hundred at most (assistMessages).
	transcriptRows  = 256
	transcriptBytes = 256 << 10
	// transcriptsBytes bounds all of them: past it, new rows displace arbitrary transcripts.
	transcriptsBytes = 64 << 20
)

// The places of a message row's ID, interaction ID and version in messageColumns.
const (
	messageIDColumn          = 0
	messageInteractionColumn = 1
	messageVersionColumn     = 13
)

// rowBytes is about what a message row takes in memory.
func rowBytes(row []any) int {
	n := 16 * len(row)
	for _, v := range row {
		if s, ok := v.(string); ok {
			n += len(s)
		}
	}
	return n
}

// messages returns the kept rows of interactionID's transcript with IDs after after, at most
// limit of them (all when limit < 0, as SQL's LIMIT), in ID order; false when none is kept or
// a commit is being applied. The rows are never changed once kept: a write replaces them.
func (c *liveCache) messages(interactionID, after string, limit int) ([][]any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen%2 == 1 {
		return nil, false
	}
	t, ok := c.transcripts.by[interactionID]
	if !ok {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(t.rows, after, compareRowID)
	if i < len(t.rows) && rowID(t.rows[i]) == after {
		i++
	}
	rows := t.rows[i:]
	if limit >= 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return slices.Clone(rows), true
}

// started keeps the transcript of a live interaction its creation has just committed, with
// the message rows the creation carried.
func (c *liveCache) started(interactionID string, rows [][]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &transcript{}
	c.transcripts.put(interactionID, t)
	c.transcripts.add(interactionID, t, rows)
}

// added applies committed message rows (new or updated) to their interaction's transcript,
// if one is kept.
func (c *liveCache) added(interactionID string, rows ...[]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.transcripts.by[interactionID]; ok {
		c.transcripts.add(interactionID, t, rows)
	}
}

// put keeps t for interactionID, replacing any kept.
func (ts *liveTranscripts) put(interactionID string, t *transcript) {
	ts.drop(interactionID)
	if ts.by == nil {
		ts.by = map[string]*transcript{}
	}
	ts.by[interactionID] = t
}

// add inserts rows into t (replacing a row of the same ID), then enforces the bounds.
func (ts *liveTranscripts) add(interactionID string, t *transcript, rows [][]any) {
	for _, row := range rows {
		if row[messageInteractionColumn] != interactionID {
			ts.drop(interactionID) // not this transcript's row: keep nothing rather than guess
			return
		}
		n := rowBytes(row)
		i, found := slices.BinarySearchFunc(t.rows, rowID(row), compareRowID)
		if found {
			n -= rowBytes(t.rows[i])
			t.rows[i] = row
		} else {
			t.rows = slices.Insert(t.rows, i, row)
		}
		t.bytes += n
		ts.bytes += n
	}
	if len(t.rows) > transcriptRows || t.bytes > transcriptBytes {
		ts.drop(interactionID)
		return
	}
	for other := range ts.by {
		if ts.bytes <= transcriptsBytes {
			break
		}
		if other != interactionID {
			ts.drop(other)
		}
	}
}

// drop forgets interactionID's transcript.
func (ts *liveTranscripts) drop(interactionID string) {
	if t, ok := ts.by[interactionID]; ok {
		ts.bytes -= t.bytes
		delete(ts.by, interactionID)
	}
}

func rowID(row []any) string { return row[messageIDColumn].(string) }

func compareRowID(row []any, id string) int { return strings.Compare(rowID(row), id) }

// keptRow scans a kept message row as a database row scans, so that a message read from the
// copies is decoded by the code that decodes the table's (scanMessage).
type keptRow []any

func (r keptRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("sqlite: %d values kept, %d scanned", len(r), len(dest))
	}
	for i, d := range dest {
		to, from := reflect.ValueOf(d).Elem(), reflect.ValueOf(r[i])
		switch {
		case to.Kind() == reflect.String && from.Kind() == reflect.String,
			to.CanInt() && from.CanInt():
			to.Set(from.Convert(to.Type()))
		default:
			return fmt.Errorf("sqlite: a kept %T cannot be scanned into %T", r[i], d)
		}
	}
	return nil
}
