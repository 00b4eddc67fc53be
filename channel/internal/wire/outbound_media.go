package wire

import (
	"strings"

	"github.com/agentdesk/agentdesk/workspace"
)

// Body is the text of an outbound message that may carry files: with files, no text is
// fine; without, an empty message is a CONTENT error.
func Body(out workspace.Outgoing) (string, error) {
	if len(out.Files) > 0 && out.Message != nil && strings.TrimSpace(out.Message.Text) == "" {
		return "", nil
	}
	return Text(out.Message)
}

// Links are the links of the files, for providers that fetch what they send. A file without
// one (the server knows no public URL) is a CONTENT error, since a retry would not help.
func Links(provider string, files []workspace.OutgoingFile) ([]string, error) {
	links := make([]string, 0, len(files))
	for _, f := range files {
		if f.Link == "" {
			return nil, Content("", "%s fetches the files it sends from agentdesk, and this server has no public URL to give: set -public-url", provider)
		}
		links = append(links, f.Link)
	}
	return links, nil
}

// Part is one provider message of an outbound message that a provider sends one file per
// message for (WhatsApp Cloud, Vonage): a file with the text as its caption, a file alone,
// or the text alone.
type Part struct {
	File    *workspace.OutgoingFile
	Caption string
}

// Parts splits an outbound message into one part per file; the text is the first file's
// caption when that file takes one (captionable) and fits (maxCaption characters), and
// goes first on its own otherwise.
func Parts(text string, files []workspace.OutgoingFile, maxCaption int, captionable func(contentType string) bool) []Part {
	var parts []Part
	for i := range files {
		parts = append(parts, Part{File: &files[i]})
	}
	if strings.TrimSpace(text) == "" {
		return parts
	}
	if len(parts) > 0 && captionable(parts[0].File.ContentType) && len([]rune(text)) <= maxCaption {
		parts[0].Caption = text
		return parts
	}
	return append([]Part{{Caption: text}}, parts...)
}
