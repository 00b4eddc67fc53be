package workspace

import (
	stdhtml "html"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Email HTML (C5): every HTML body agentdesk stores or shows, inbound or written by an agent,
// passes SanitiseEmailHTML. bluemonday keeps a list of harmless elements and attributes
// (no scripts, no event handlers, no style, no forms, no frames; links only to http, https
// and mailto), and then a second pass makes sure nothing loads by itself: an image with a
// remote source keeps it only in data-remote-src (the SPA's "show remote images" choice
// moves it back into src), a cid: image points at the stored file of its part, and only
// data: images of raster types stay inline.

// RemoteSrcAttr is the attribute a remote image's URL is kept in until the agent chooses to
// show remote images.
const RemoteSrcAttr = "data-remote-src"

var (
	emailPolicyOnce sync.Once
	emailPolicy     *bluemonday.Policy
)

func policy() *bluemonday.Policy {
	emailPolicyOnce.Do(func() {
		p := bluemonday.UGCPolicy()
		p.AllowURLSchemes("mailto", "http", "https", "cid")
		p.AllowDataURIImages()
		p.RequireNoFollowOnLinks(true)
		p.RequireNoReferrerOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		p.AllowAttrs("data-attachment-id").OnElements("img")
		// The agent's signature block (E2), which the SPA recognises in a failed reply's Edit.
		p.AllowAttrs("class").Matching(regexp.MustCompile(`^signature$`)).OnElements("div")
		p.AllowElements("font", "center", "u", "s", "hr")
		p.AllowAttrs("color").Matching(regexp.MustCompile(`^#?[0-9a-zA-Z]{1,20}$`)).OnElements("font")
		p.AllowAttrs("align").Matching(regexp.MustCompile(`^(?i)(left|right|center|justify)$`)).OnElements("p", "div", "td", "th", "table")
		emailPolicy = p
	})
	return emailPolicy
}

// SanitiseEmailHTML returns html without anything that executes or loads by itself. cids
// maps an inline image's Content-ID (lower case, no brackets) to the ID of the attachment
// stored for it; cid: images without one lose their source.
func SanitiseEmailHTML(raw string, cids map[string]string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	clean := policy().Sanitize(raw)
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(clean))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		t := z.Token()
		if (tt == html.StartTagToken || tt == html.SelfClosingTagToken) && t.DataAtom == atom.Img {
			t.Attr = imageAttrs(t.Attr, cids)
		}
		b.WriteString(t.String())
	}
	out := strings.TrimSpace(b.String())
	if len(ExecutableConstructs(out)) > 0 { // never expected: then only the text is kept
		return "<p>" + stdhtml.EscapeString(HTMLText(out)) + "</p>"
	}
	return out
}

// dangerousElements run code, load content or change the page when a browser renders them.
var dangerousElements = map[string]bool{"script": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "form": true, "input": true, "button": true, "textarea": true, "select": true,
	"style": true, "link": true, "meta": true, "base": true, "svg": true, "math": true, "template": true,
	"noscript": true, "xml": true, "portal": true, "video": true, "audio": true, "source": true, "track": true}

// urlAttrs hold URLs a browser follows or loads.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true,
	"data": true, "poster": true, "background": true, "codebase": true, "cite": true, "longdesc": true, "usemap": true, "dynsrc": true, "lowsrc": true}

// ExecutableConstructs lists what in html could run script or load something by itself when
// a browser renders it: dangerous elements, event handlers, style, srcset, URLs with a
// scheme other than http, https, mailto (links) or raster data: images, and images loading
// from elsewhere than the server's attachments. The sanitiser's output must have none (the
// XSS corpus test and the fuzz target count them).
func ExecutableConstructs(raw string) []string {
	var found []string
	z := html.NewTokenizer(strings.NewReader(raw))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return found
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		t := z.Token()
		name := strings.ToLower(t.Data)
		if dangerousElements[name] {
			found = append(found, "<"+name+">")
		}
		for _, a := range t.Attr {
			key, val := strings.ToLower(a.Key), strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			switch {
			case strings.HasPrefix(key, "on"), key == "style", key == "srcset", key == "formaction", key == "http-equiv":
				found = append(found, name+"["+key+"]")
			case urlAttrs[key]:
				switch {
				case name == "img" && key == "src":
					if !strings.HasPrefix(val, "/attachments/") && !strings.HasPrefix(val, "data:image/png;") && !strings.HasPrefix(val, "data:image/jpeg;") &&
						!strings.HasPrefix(val, "data:image/gif;") && !strings.HasPrefix(val, "data:image/webp;") {
						found = append(found, "img[src="+a.Val+"]")
					}
				case key == "href" || key == "cite":
					if strings.Contains(val, ":") && !strings.HasPrefix(val, "http://") && !strings.HasPrefix(val, "https://") && !strings.HasPrefix(val, "mailto:") {
						found = append(found, name+"["+key+"="+a.Val+"]")
					}
				default:
					found = append(found, name+"["+key+"]")
				}
			}
		}
	}
}

// imageAttrs makes an image's source safe: a remote one moves to RemoteSrcAttr, a cid: one
// points at its stored file, a data: one stays only as a raster image; an attachment ID
// given by the page itself is dropped (only the cid: mapping sets it).
func imageAttrs(attrs []html.Attribute, cids map[string]string) []html.Attribute {
	out := attrs[:0:0]
	for _, a := range attrs {
		key := strings.ToLower(a.Key)
		switch key {
		case "data-attachment-id", RemoteSrcAttr:
			continue
		case "src":
			v := strings.TrimSpace(a.Val)
			low := strings.ToLower(v)
			switch {
			case strings.HasPrefix(low, "cid:"):
				if id, ok := cids[strings.ToLower(CleanMessageID(v[4:]))]; ok {
					out = append(out, html.Attribute{Key: "src", Val: "/attachments/" + id},
						html.Attribute{Key: "data-attachment-id", Val: id})
				}
			case strings.HasPrefix(low, "data:image/png;") || strings.HasPrefix(low, "data:image/jpeg;") ||
				strings.HasPrefix(low, "data:image/gif;") || strings.HasPrefix(low, "data:image/webp;"):
				out = append(out, html.Attribute{Key: "src", Val: v})
			case strings.HasPrefix(low, "/attachments/") && checkID(strings.TrimPrefix(v, "/attachments/")) == nil:
				out = append(out, html.Attribute{Key: "src", Val: v},
					html.Attribute{Key: "data-attachment-id", Val: strings.TrimPrefix(v, "/attachments/")})
			case strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://"):
				out = append(out, html.Attribute{Key: RemoteSrcAttr, Val: v})
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// blockTags end a line in the plain text of HTML.
var blockTags = map[atom.Atom]bool{atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Tr: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Blockquote: true, atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Hr: true, atom.Pre: true}

// HTMLText is the plain text of HTML: its text, a line for each block, "- " before list
// items; what scripts and styles hold is left out.
func HTMLText(raw string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(raw))
	skip := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		t := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if t.DataAtom == atom.Script || t.DataAtom == atom.Style || t.DataAtom == atom.Title {
				if tt == html.StartTagToken {
					skip++
				}
				continue
			}
			if blockTags[t.DataAtom] && b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
				b.WriteString("\n")
			}
			if t.DataAtom == atom.Li {
				b.WriteString("- ")
			}
		case html.EndTagToken:
			if t.DataAtom == atom.Script || t.DataAtom == atom.Style || t.DataAtom == atom.Title {
				skip = max(0, skip-1)
				continue
			}
			if blockTags[t.DataAtom] && !strings.HasSuffix(b.String(), "\n") {
				b.WriteString("\n")
			}
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(t.Data), " "))
				if strings.HasSuffix(t.Data, " ") || strings.HasSuffix(t.Data, "\n") {
					b.WriteString(" ")
				}
			}
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
