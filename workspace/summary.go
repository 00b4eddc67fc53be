package workspace

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/assist"
)

// Insert Summary (W4): a recap of the transcript appended to the notes, on a new paragraph,
// never removing what the agent typed. Offline by default (assist.Summarise); with a
// Summariser (a language model) it asks that instead and falls back to the offline summary on
// any failure. The recap's first line tells the agent which wrote it.

// Summariser writes a recap of a transcript, e.g. by asking a language model.
type Summariser interface {
	// Summarise returns the recap's text.
	Summarise(ctx context.Context, contactName string, lines []assist.Line) (string, error)
	// Name says who wrote the recap, shown to the agent, e.g. "language model llama3".
	Name() string
}

// Limits of Insert Summary.
const (
	// minSummaryRoom is the least room the notes must have left for a recap.
	minSummaryRoom = 80
	// summaryMessages bounds the messages a recap reads: the opening and the end of a long
	// transcript carry its request and its resolution.
	summaryMessages = 2000
	// SummaryTimeout bounds the Summariser's answer.
	SummaryTimeout = 20 * time.Second
	// maxSummaryChars bounds a Summariser's recap.
	maxSummaryChars = 4000
)

// summaryCut ends a recap that was shortened to fit the notes.
const summaryCut = " … [summary cut to fit the notes limit]"

// InsertSummary appends a recap of the transcript to the notes of an ACTIVE or WRAP
// interaction the agent holds, in a plan with SummaryAssist on. Notes with no room left are
// INVALID and stay as they are; a recap that does not fit whole is cut, and says so.
func (s *Service) InsertSummary(ctx context.Context, interactionID string) (*Interaction, error) {
	me, ix, plan, err := s.heldWithPlan(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	if !plan.SummaryAssist {
		return nil, Errorf(EASSISTOFF, "Insert Summary is off for plan %s; a supervisor can turn it on", plan.Name)
	}
	if err := ix.in(Active, Wrap); err != nil {
		return nil, err
	}
	if err := notesRoom(ix.Notes); err != nil {
		return nil, err
	}
	recap, err := s.recap(ctx, ix)
	if err != nil {
		return nil, err
	}
	return s.edit(ctx, interactionID, ix, func(ix *Interaction) error {
		if err := mine(ix, me.ID); err != nil {
			return err
		}
		if err := notesRoom(ix.Notes); err != nil {
			return err
		}
		return ix.writeNotes(appendRecap(ix.Notes, recap))
	})
}

// notesRoom refuses notes that leave no room for a recap.
func notesRoom(notes string) error {
	if utf8.RuneCountInString(notes)+minSummaryRoom > maxNotesChars {
		return &Error{Code: EINVALID, Field: []string{"notes"}, Message: fmt.Sprintf(
			"the notes are at their limit of %d characters: shorten them to insert a summary", maxNotesChars)}
	}
	return nil
}

// appendRecap puts the recap on a new paragraph after the notes, cut to the notes limit.
func appendRecap(notes, recap string) string {
	sep := ""
	if strings.TrimSpace(notes) != "" {
		notes = strings.TrimRight(notes, " \t\n")
		sep = "\n\n"
	}
	room := maxNotesChars - utf8.RuneCountInString(notes) - utf8.RuneCountInString(sep)
	if r := []rune(recap); len(r) > room {
		keep := room - utf8.RuneCountInString(summaryCut)
		recap = strings.TrimRight(string(r[:keep]), " \n") + summaryCut
	}
	return notes + sep + recap
}

// recap writes the recap with its heading: the Summariser's when it answers, else offline.
func (s *Service) recap(ctx context.Context, ix *Interaction) (string, error) {
	lines, err := s.summaryLines(ctx, ix.ID)
	if err != nil {
		return "", err
	}
	if s.Summariser != nil {
		tctx, cancel := context.WithTimeout(ctx, SummaryTimeout)
		text, err := s.Summariser.Summarise(tctx, ix.Contact.Name, lines)
		cancel()
		if text = NormaliseText(text); err == nil && !IsBlank(text) {
			if r := []rune(text); len(r) > maxSummaryChars {
				text = string(r[:maxSummaryChars]) + " …"
			}
			return "Summary (" + s.Summariser.Name() + "):\n" + text, nil
		}
		return "Summary (offline; the language model did not answer usably):\n" + assist.Summarise(ix.Contact.Name, lines), nil
	}
	return "Summary (offline):\n" + assist.Summarise(ix.Contact.Name, lines), nil
}

// summaryLines reads the contact's and the agents' messages of a transcript: its first
// summaryMessages/2 and, of a longer one, its last summaryMessages/2.
func (s *Service) summaryLines(ctx context.Context, interactionID string) ([]assist.Line, error) {
	var msgs []*Message
	after := ""
	for {
		page, err := s.Store.Messages(ctx, interactionID, after, 500)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, page...)
		if len(msgs) > summaryMessages {
			msgs = append(msgs[:summaryMessages/2], msgs[len(msgs)-summaryMessages/2:]...)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	var lines []assist.Line
	for _, m := range msgs {
		if m.From != PartySystem && !IsBlank(m.Text) {
			lines = append(lines, assist.Line{Contact: m.From == PartyContact, Text: m.Text})
		}
	}
	return lines, nil
}
