package assist

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Line is one message of a transcript as the summary reads it.
type Line struct {
	// Contact is true for the contact's messages, false for the agents'.
	Contact bool
	Text    string
}

// orderPattern finds order (and ticket, booking, reference) numbers: a keyword followed by an
// identifier with at least three digits, or a #-prefixed one.
var orderPattern = regexp.MustCompile(`(?i)(?:\b(?:order|ticket|booking|reference|ref|case|invoice)\s*(?:number|no\.?|num|id)?\s*[:#]?\s*|#)([A-Z0-9][A-Z0-9\-]*\d{3,}[A-Z0-9\-]*)`)

// OrderNumbers returns the order numbers text mentions, in order, each once.
func OrderNumbers(text string) []string {
	var out []string
	for _, m := range orderPattern.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// Words that carry no request or resolution: greetings, courtesy, fillers.
var smallTalk = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`hi hello hey dear good morning afternoon evening thanks thank thx you ok okay
		bye goodbye welcome great sure yes no please cheers regards there name is im i am my this that the a an
		and or to of for in on at it its is are was be been with me we us our your can could would will how help
		anything else today day have nice wonderful glad assist just moment let check chat one sec second
		reaching reach out contacting contact sorry hear happy know problem`) {
		smallTalk[w] = true
	}
}

// sentences splits text into sentences at ., ! and ? followed by a space, and at line breaks.
func sentences(text string) []string {
	var out []string
	start := 0
	rs := []rune(text)
	for i, r := range rs {
		end := r == '\n' || ((r == '.' || r == '!' || r == '?') && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])))
		if end {
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

// weight is how much a sentence says: its words that are not small talk, with a bonus for
// digits (amounts, dates, numbers).
func weight(s string) int {
	n := 0
	for _, w := range words(s) {
		if !smallTalk[w] && len(w) > 2 {
			n++
		}
	}
	if strings.ContainsFunc(s, unicode.IsDigit) {
		n++
	}
	return n
}

// summaryScan bounds how many sentences the summary looks at from each end of a transcript.
const summaryScan = 400

// Summarise writes an extractive recap of a transcript: the contact's request (their most
// telling sentences of the opening), the resolution (the agents' most telling sentences at
// the end), and every order number mentioned, with the contact's name. Its cost follows the
// sentences it scans, at most summaryScan from each end.
func Summarise(contactName string, lines []Line) string {
	var contact, agent []string
	for _, l := range lines {
		if l.Contact {
			if len(contact) < summaryScan {
				contact = append(contact, sentences(l.Text)...)
			}
		} else {
			agent = append(agent, sentences(l.Text)...)
			if len(agent) > 2*summaryScan {
				agent = agent[len(agent)-summaryScan:]
			}
		}
	}
	var orders []string
	for _, l := range lines {
		for _, o := range OrderNumbers(l.Text) {
			if !slices.Contains(orders, o) {
				orders = append(orders, o)
			}
		}
	}
	who := strings.TrimSpace(contactName)
	if who == "" {
		who = "The contact"
	}
	var b strings.Builder
	if req := best(contact[:min(len(contact), 12)], 2, false); len(req) > 0 {
		b.WriteString(who + " asked: " + strings.Join(req, " ") + "\n")
	} else {
		b.WriteString(who + " wrote nothing the summary could use.\n")
	}
	if res := best(agent[max(0, len(agent)-10):], 2, true); len(res) > 0 {
		b.WriteString("Resolution: " + strings.Join(res, " ") + "\n")
	}
	if len(orders) > 0 {
		b.WriteString("Order numbers: " + strings.Join(orders, ", ") + "\n")
	}
	return strings.TrimSpace(b.String())
}

// best picks up to k sentences that say the most, in their transcript order; fromEnd prefers
// later sentences on a tie (a resolution comes last), else earlier ones (a request comes
// first).
func best(ss []string, k int, fromEnd bool) []string {
	type scored struct{ i, w int }
	var cand []scored
	for i, s := range ss {
		if w := weight(s); w >= 2 {
			cand = append(cand, scored{i, w})
		}
	}
	slices.SortStableFunc(cand, func(a, b scored) int {
		if a.w != b.w {
			return b.w - a.w
		}
		if fromEnd {
			return b.i - a.i
		}
		return a.i - b.i
	})
	cand = cand[:min(k, len(cand))]
	slices.SortFunc(cand, func(a, b scored) int { return a.i - b.i })
	out := make([]string, len(cand))
	for j, c := range cand {
		out[j] = ss[c.i]
	}
	return out
}
