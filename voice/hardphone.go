package voice

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

// registrar keeps the hardphones registered with agentdesk, by agent username, and the
// phone legs that ring or carry calls.
type registrar struct {
	mu     sync.Mutex
	phones map[string]registration
	legs   map[string]*phoneLeg // by dialog ID (agentdesk is the UAC)
}

type registration struct {
	contact sip.Uri
	until   time.Time
}

func newRegistrar() *registrar {
	return &registrar{phones: map[string]registration{}, legs: map[string]*phoneLeg{}}
}

func (r *registrar) contact(username string, now time.Time) (sip.Uri, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.phones[username]
	if !ok || now.After(reg.until) {
		return sip.Uri{}, false
	}
	return reg.contact, true
}

func (r *registrar) byBye(req *sip.Request) *phoneLeg {
	id, err := sip.DialogIDFromRequestUAC(req)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.legs[id]
}

// onRegister registers an agent's hardphone: rate limited per source address (503), digest
// auth with the agent's SIP password (401 challenge, 403 wrong).
func (b *Bridge) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	src, _, _ := net.SplitHostPort(req.Source())
	if !b.limiter.allow(src, time.Now()) {
		respond(req, tx, 503, "Service Unavailable", sip.NewHeader("Retry-After", strconv.Itoa(int(b.cfg.RegisterEvery/time.Second)+1)))
		return
	}
	to, contact := req.To(), req.Contact()
	if to == nil || contact == nil {
		respond(req, tx, 400, "Bad Request")
		return
	}
	username := to.Address.User
	password, known := "", false
	if b.cfg.Hardphones != nil && username != "" {
		password, known = b.cfg.Hardphones(username)
	}
	if !known {
		if ok, challenge := b.checkDigest(req, "\x00", "\x00"); !ok && challenge != nil {
			respond(req, tx, 401, "Unauthorized", challenge) // the same answer whether the user exists or not
		} else {
			respond(req, tx, 403, "Forbidden")
		}
		return
	}
	if ok, challenge := b.checkDigest(req, username, password); !ok {
		if challenge != nil {
			respond(req, tx, 401, "Unauthorized", challenge)
		} else {
			respond(req, tx, 403, "Forbidden")
		}
		return
	}
	expires := 3600
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil && n >= 0 {
			expires = min(n, 3600)
		}
	}
	b.reg.mu.Lock()
	if expires == 0 {
		delete(b.reg.phones, username)
	} else {
		b.reg.phones[username] = registration{contact: contact.Address, until: time.Now().Add(time.Duration(expires) * time.Second)}
	}
	b.reg.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(contact.Clone())
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	_ = tx.Respond(res)
}

// phoneLeg is the agent's leg on their hardphone.
type phoneLeg struct {
	c       *call
	agentID string
	sock    *media.Socket
	remote  *net.UDPAddr
	dialog  *sipgo.DialogClientSession
	cancel  context.CancelFunc
	seq     uint16
	ts      uint32
	mu      sync.Mutex
	once    sync.Once
	hungUp  bool // the phone hung up
	dialID  string
	started bool
}

// ringHardphone rings the agent's registered hardphone for an offer of the call; picking it
// up accepts the offer (the agent's own act, so it runs as them).
func (b *Bridge) ringHardphone(c *call, ix *workspace.Interaction, a *workspace.Agent) {
	contact, ok := b.reg.contact(a.Username, time.Now())
	if !ok {
		return // not registered: the agent can still accept in the browser
	}
	sock, err := media.Listen(b.mediaIP)
	if err != nil {
		return
	}
	leg := &phoneLeg{c: c, agentID: a.ID, sock: sock}
	ctx, cancel := context.WithCancel(b.ctx)
	leg.cancel = cancel
	body := c.sdpFor(sock.Port())
	req := sip.NewRequest(sip.INVITE, contact)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(&sip.FromHeader{DisplayName: ix.Contact.Address, Address: sip.Uri{Scheme: "sip", User: ix.Contact.Address, Host: b.mediaIP.String()}, Params: tagged()})
	dlg, err := b.dialogs.WriteInvite(ctx, req)
	if err != nil {
		cancel()
		sock.Close()
		return
	}
	leg.dialog = dlg
	c.stopRinging() // another agent's phone that rang for an earlier offer
	c.mu.Lock()
	c.ringing = leg
	c.mu.Unlock()
	offerID, me := ix.OfferID(), *a
	go func() {
		err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
		if err != nil {
			leg.close()
			return
		}
		_ = dlg.Ack(ctx)
		ans, err := parseSDP(dlg.InviteResponse.Body())
		if err != nil {
			leg.close()
			return
		}
		leg.remote = ans.addr
		b.reg.mu.Lock()
		leg.dialID = dlg.ID
		b.reg.legs[dlg.ID] = leg
		b.reg.mu.Unlock()
		actx := workspace.WithPrincipal(context.WithoutCancel(b.ctx), workspace.Principal{Kind: workspace.AgentPrincipal, Agent: &me})
		if _, err := b.Service.AcceptOffer(actx, offerID); err != nil {
			slog.Info("voice: hardphone answered a closed offer", "err", err)
			leg.close()
		}
	}()
}

// connectHardphone makes the hardphone that answered the agent's offer the call's agent leg.
func (b *Bridge) connectHardphone(c *call, ix *workspace.Interaction, a *workspace.Agent) error {
	c.mu.Lock()
	leg := c.ringing
	c.ringing = nil
	c.mu.Unlock()
	if leg == nil || leg.agentID != a.ID || leg.remote == nil {
		if leg != nil {
			leg.close()
		}
		return errors.New("answer on your hardphone: it is not registered, or did not pick up")
	}
	c.setAgent(leg)
	leg.start()
	return nil
}

// start relays the phone's audio to the customer.
func (p *phoneLeg) start() {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return
	}
	p.started = true
	p.mu.Unlock()
	go func() {
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			n, _, err := p.sock.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) == nil && pkt.PayloadType == media.PayloadPCMU {
				p.c.fromAgent(pkt.Payload)
			}
		}
	}()
}

// write implements agentSide.
func (p *phoneLeg) write(payload []byte) {
	p.mu.Lock()
	p.seq++
	p.ts += uint32(len(payload))
	h := rtp.Header{Version: 2, PayloadType: media.PayloadPCMU, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.c.ssrc ^ 0x5a5a}
	p.mu.Unlock()
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err == nil && p.remote != nil {
		_, _ = p.sock.WriteToUDP(b, p.remote)
	}
}

// close implements agentSide: BYE to the phone unless it hung up (or CANCEL while it rings).
func (p *phoneLeg) close() {
	p.once.Do(func() {
		p.mu.Lock()
		hungUp := p.hungUp
		p.mu.Unlock()
		b := p.c.b
		b.reg.mu.Lock()
		delete(b.reg.legs, p.dialID)
		b.reg.mu.Unlock()
		go func() {
			if !hungUp && p.dialog != nil && p.dialog.LoadState() >= sip.DialogStateEstablished {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
				_ = p.dialog.Bye(ctx)
				cancel()
			}
			p.cancel()
			_ = p.sock.Close()
		}()
	})
}

// readBye takes the hardphone's BYE: the agent hung up, which ends the call (X2).
func (p *phoneLeg) readBye(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	p.hungUp = true
	p.mu.Unlock()
	_ = p.dialog.ReadBye(req, tx)
	c := p.c
	if _, err := c.b.Service.CallEnded(context.WithoutCancel(c.b.ctx), c.ixID, workspace.PartyAgent); err != nil {
		slog.Warn("voice: hardphone hang-up", "err", err)
	}
	p.close()
}
