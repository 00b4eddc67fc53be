package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/agentdesk/agentdesk/voice"
	"github.com/agentdesk/agentdesk/workspace"
)

// The demo's simulated caller: with -demo, a voice identity whose trunk is a SIP UA inside
// this process (voice.Caller). The page at /demo/call has it call the desk's demo number and
// play a voice prompt (a phrase of tones), so a newcomer takes a call in the browser with no
// carrier; calls the desk places from that identity (a consult from a chat) ring it too, and it
// answers. Nothing of it exists without -demo.

// demoVoiceIdentityID is fixed, so a restart finds the demo identity again (and updates its
// trunk address, a new port each run).
const demoVoiceIdentityID = "8b0a3f4d-5e6f-4a71-9c23-d4e5f6a7b8c9"

// demoVoiceNumber is the desk's demo number for calls (Ofcom's drama range).
const demoVoiceNumber = "+447700900300"

// startDemoCaller starts the simulated caller and points the demo voice identity at it.
func (m *Main) startDemoCaller(ctx context.Context) error {
	c, err := voice.NewCaller(m.Voice.Addr().IP.String())
	if err != nil {
		return err
	}
	planID := ""
	plans, err := m.Store.Plans(ctx)
	if err != nil {
		c.Close()
		return err
	}
	for _, pl := range plans {
		if pl.Name == "Support" || planID == "" {
			planID = pl.ID
		}
	}
	if _, err := m.demoIdentity(ctx, demoVoiceIdentityID, workspace.Voice, demoVoiceNumber, "Acme Support (voice)", voice.ProviderName, planID,
		func(s map[string]string) error {
			s["trunkAddress"] = c.Addr().String()
			return nil
		}); err != nil {
		c.Close()
		return err
	}
	m.demoCaller = c
	return nil
}

// demoCallRoutes serves the caller's page and its API.
func (m *Main) demoCallRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo/call", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(demoCallPage))
	})
	mux.HandleFunc("GET /demo/call/call.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(demoCallJS))
	})
	mux.HandleFunc("GET /demo/call/call.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(demoCallCSS))
	})
	mux.HandleFunc("GET /demo/call/api/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, m.demoCaller.State())
	})
	mux.HandleFunc("POST /demo/call/api/dial", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		tone, _ := strconv.ParseFloat(r.URL.Query().Get("tone"), 64)
		if tone < 0 || tone > 3400 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "tone: 0 (the prompt) to 3400 Hz"})
			return
		}
		if err := m.demoCaller.Call(ctx, m.Voice.Addr(), demoVoiceNumber, "Demo Caller", tone); err != nil {
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, m.demoCaller.State())
	})
	mux.HandleFunc("POST /demo/call/api/hangup", func(w http.ResponseWriter, r *http.Request) {
		if err := m.demoCaller.Hangup(r.Context()); err != nil {
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, m.demoCaller.State())
	})
}

const demoCallPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agentdesk · demo caller</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/demo/call/call.css">
<script src="/demo/call/call.js" defer></script>
</head><body>
<h1>Demo caller</h1>
<p class="muted">A simulated customer's phone inside agentdesk. Sign in to the desk as <b>alice</b> (password <b>demo</b>)
in another tab, set yourself <b>Ready</b>, then call. The caller plays a voice prompt (a phrase of tones) that you hear in the softphone.</p>
<p><label><input type="checkbox" id="tone"> Play a steady 1 kHz test tone instead of the prompt</label></p>
<p><button id="dial">Call the desk (` + demoVoiceNumber + `)</button><button id="hangup">Hang up</button></p>
<p id="status" role="status">Idle.</p>
<label>What the caller hears from the desk <meter id="level" min="0" max="0.5" value="0"></meter></label>
<p id="heard" class="muted"></p>
</body></html>`

const demoCallCSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #888;cursor:pointer;margin-right:.5rem}
#dial{background:#1a7f37;color:#fff;border-color:#1a7f37}#hangup{background:#cf222e;color:#fff;border-color:#cf222e}
meter{width:100%;height:1.2rem}.muted{color:#57606a}
`

const demoCallJS = `'use strict';
const status = document.getElementById('status'), level = document.getElementById('level'), heard = document.getElementById('heard');
let calling = false;
async function api(path, method) {
  const r = await fetch('/demo/call/api/' + path, { method: method || 'GET' });
  const j = await r.json();
  if (j.error) status.textContent = j.error;
  return j;
}
document.getElementById('dial').onclick = async () => {
  calling = true;
  status.textContent = 'Calling…';
  await api('dial' + (document.getElementById('tone').checked ? '?tone=1000' : ''), 'POST');
  calling = false;
};
document.getElementById('hangup').onclick = () => api('hangup', 'POST');
setInterval(async () => {
  const s = await api('state');
  level.value = s.level || 0;
  heard.textContent = s.heardTone ? 'The caller hears a ' + s.heardTone + ' Hz tone.' : '';
  if (s.inCall) {
    const d = Math.round((Date.now() - Date.parse(s.since)) / 1000);
    status.textContent = 'In call · ' + Math.floor(d / 60) + ':' + String(d % 60).padStart(2, '0') + ' · ' + s.sent + ' frames sent, ' + s.heard + ' heard';
  } else if (!calling && !s.error) {
    status.textContent = 'Idle.';
  }
}, 500);
`
