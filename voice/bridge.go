// Package voice is agentdesk's voice channel: a back-to-back user agent that bridges a
// customer's leg (SIP and RTP to a trunk, with sipgo) and an agent's leg (WebRTC terminated
// here with pion, signalled over the GraphQL API, or a SIP hardphone registered here). Media
// is G.711 PCMU end to end: RTP payloads are relayed between the legs, never transcoded.
//
// The Bridge implements workspace.Calls: every rule (who is offered a call, when it ends, what
// the transcript says) is decided by the workspace; the Bridge reports what happened on the
// wire (IncomingCall, CallEnded, AgentLost) and does what the workspace decided.
package voice

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// Config configures a Bridge.
type Config struct {
	// SIPAddr is the UDP address agentdesk takes SIP on: trunks' INVITEs and hardphones'
	// REGISTERs, e.g. "0.0.0.0:5060"; "127.0.0.1:0" picks a free port.
	SIPAddr string
	// MediaIP is where RTP sockets listen and what SDP announces; default the SIP address's
	// IP (127.0.0.1 when that is unspecified).
	MediaIP net.IP
	// Realm names agentdesk in digest challenges; default "agentdesk".
	Realm string
	// RegisterBurst and RegisterEvery bound REGISTERs per source address: a burst of
	// RegisterBurst, then one per RegisterEvery (defaults 10 and 6 s). The rest get 503.
	RegisterBurst int
	RegisterEvery time.Duration
	// LostCheck is how often agent legs that lost their network are checked against the
	// workspace's ICE grace (default 1 s; 0 uses the default, negative turns it off).
	LostCheck time.Duration
	// Hardphones returns the SIP password of an agent's hardphone by username; nil means no
	// hardphone may register.
	Hardphones func(username string) (password string, ok bool)
}

// Bridge is the voice channel of one node.
type Bridge struct {
	Service *workspace.Service
	cfg     Config

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dialogs sipgo.DialogUA
	conn    *guardConn
	addr    *net.UDPAddr
	mediaIP net.IP
	secret  []byte
	limiter *limiter
	rtc     *rtcEngine

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	calls map[string]*call // by interaction ID
	uas   map[string]*call // by dialog ID, calls the customer placed
	uac   map[string]*call // by dialog ID, calls agentdesk placed
	reg   *registrar

	closeOnce sync.Once
}

// New starts a Bridge listening on cfg.SIPAddr.
func New(svc *workspace.Service, cfg Config) (*Bridge, error) {
	if cfg.Realm == "" {
		cfg.Realm = "agentdesk"
	}
	if cfg.RegisterBurst <= 0 {
		cfg.RegisterBurst = 10
	}
	if cfg.RegisterEvery <= 0 {
		cfg.RegisterEvery = 6 * time.Second
	}
	if cfg.LostCheck == 0 {
		cfg.LostCheck = time.Second
	}
	pc, err := net.ListenPacket("udp", cfg.SIPAddr)
	if err != nil {
		return nil, fmt.Errorf("sip listener: %w", err)
	}
	addr := pc.LocalAddr().(*net.UDPAddr)
	mediaIP := cfg.MediaIP
	if mediaIP == nil {
		mediaIP = addr.IP
		if mediaIP.IsUnspecified() {
			mediaIP = net.IPv4(127, 0, 0, 1)
		}
	}
	host := mediaIP.String()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("agentdesk"), sipgo.WithUserAgentHostname(host))
	if err != nil {
		pc.Close()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		ua.Close()
		pc.Close()
		return nil, err
	}
	// Requests leave from the SIP listener itself, so trunks see agentdesk at one address.
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		ua.Close()
		pc.Close()
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge{
		Service: svc, cfg: cfg, ua: ua, srv: srv, cli: cli, addr: addr, mediaIP: mediaIP, secret: secret,
		limiter: newLimiter(cfg.RegisterBurst, cfg.RegisterEvery),
		ctx:     ctx, cancel: cancel,
		calls: map[string]*call{}, uas: map[string]*call{}, uac: map[string]*call{},
		reg: newRegistrar(),
	}
	b.rtc, err = newRTCEngine(mediaIP)
	if err != nil {
		cancel()
		ua.Close()
		pc.Close()
		return nil, err
	}
	b.dialogs = sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "agentdesk", Host: host, Port: addr.Port}}}
	srv.OnInvite(b.onInvite)
	srv.OnAck(b.onAck)
	srv.OnBye(b.onBye)
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {}) // the INVITE transaction handles it
	srv.OnRegister(b.onRegister)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnNoRoute(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
	})
	b.conn = &guardConn{PacketConn: pc}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		_ = srv.ServeUDP(b.conn)
	}()
	ServingOn(ua, addr.String())
	if cfg.LostCheck > 0 {
		b.wg.Add(1)
		go func() { defer b.wg.Done(); b.watchLost(cfg.LostCheck) }()
	}
	return b, nil
}

// ServingOn waits (briefly) until ua's transport layer serves the UDP listener at addr, so a
// client request sent from that address finds it.
func ServingOn(ua *sipgo.UserAgent, addr string) {
	for range 2000 {
		if c, err := ua.TransportLayer().GetConnection("udp", addr); err == nil && c != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// Addr is the address the Bridge takes SIP on.
func (b *Bridge) Addr() *net.UDPAddr { return b.addr }

// Close hangs up every call and stops listening; closing again does nothing.
func (b *Bridge) Close() error {
	var err error
	b.closeOnce.Do(func() { err = b.close() })
	return err
}

func (b *Bridge) close() error {
	b.mu.Lock()
	calls := make([]*call, 0, len(b.calls))
	for _, c := range b.calls {
		calls = append(calls, c)
	}
	b.mu.Unlock()
	for _, c := range calls {
		c.hangup()
	}
	for _, c := range calls {
		c.wait(2 * time.Second)
	}
	b.cancel()
	err := b.conn.Close()
	b.srv.Close()
	b.cli.Close()
	b.ua.Close()
	b.wg.Wait()
	return err
}

// Calls is how many calls the Bridge carries now.
func (b *Bridge) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls)
}

func (b *Bridge) call(ixID string) *call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[ixID]
}

// forget removes a call that has ended.
func (b *Bridge) forget(c *call) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.calls[c.ixID] == c {
		delete(b.calls, c.ixID)
	}
	for k, v := range b.uas {
		if v == c {
			delete(b.uas, k)
		}
	}
	for k, v := range b.uac {
		if v == c {
			delete(b.uac, k)
		}
	}
}

// respond answers a request outside a dialog.
func respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// identityFor finds the voice identity whose number an INVITE calls.
func (b *Bridge) identityFor(ctx context.Context, req *sip.Request) (*workspace.Identity, error) {
	num, err := workspace.NormalisePhone(req.Recipient.User, "to")
	if err != nil {
		return nil, err
	}
	ids, err := b.Service.Store.Identities(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id.Channel == workspace.Voice && id.Provider == ProviderName && id.Address == num {
			return id, nil
		}
	}
	return nil, errors.New("no voice identity has this number")
}

// fromTrunk reports whether a request's source is the identity's trunk host.
func fromTrunk(req *sip.Request, id *workspace.Identity) bool {
	src, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return false
	}
	host, _, err := net.SplitHostPort(id.Settings["trunkAddress"])
	if err != nil {
		return false
	}
	if host == src {
		return true
	}
	ips, err := net.LookupHost(host)
	if err != nil {
		return false
	}
	for _, ip := range ips {
		if net.ParseIP(ip).Equal(net.ParseIP(src)) {
			return true
		}
	}
	return false
}

// onInvite takes a call on a voice identity's number: the trunk must be the identity's
// (403), its digest right (401 challenge, 403 wrong), the SDP offer PCMU (400 malformed,
// 488 no PCMU). Only then is an interaction created; the call is answered at once, and the
// customer hears the hold tone until an agent's leg is connected.
func (b *Bridge) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params != nil {
		if tag, ok := to.Params.Get("tag"); ok && tag != "" {
			respond(req, tx, 488, "Not Acceptable Here") // re-INVITEs (e.g. the customer's hold) are not taken
			return
		}
	}
	if req.From() == nil || req.CallID() == nil || req.Contact() == nil || req.CSeq() == nil {
		slog.Debug("voice: INVITE without From, Call-ID, Contact or CSeq")
		respond(req, tx, 400, "Bad Request")
		return
	}
	ctx := b.ctx
	id, err := b.identityFor(ctx, req)
	if err != nil {
		respond(req, tx, 404, "Not Found")
		return
	}
	if !fromTrunk(req, id) {
		respond(req, tx, 403, "Forbidden")
		return
	}
	if id.Settings["password"] != "" {
		if ok, challenge := b.checkDigest(req, id.Settings["username"], id.Settings["password"]); !ok {
			if challenge != nil {
				respond(req, tx, 401, "Unauthorized", challenge)
			} else {
				respond(req, tx, 403, "Forbidden")
			}
			return
		}
	}
	offer, err := parseSDP(req.Body())
	if err != nil {
		slog.Debug("voice: bad SDP", "err", err)
		respond(req, tx, 400, "Bad Request")
		return
	}
	if !offer.pcmu {
		respond(req, tx, 488, "Not Acceptable Here")
		return
	}
	dlg, err := b.dialogs.ReadInvite(req, tx)
	if err != nil {
		slog.Debug("voice: INVITE refused", "err", err)
		respond(req, tx, 400, "Bad Request")
		return
	}
	sock, err := media.Listen(b.mediaIP)
	if err != nil {
		_ = dlg.Respond(503, "Service Unavailable", nil)
		return
	}
	c := newCall(b, uuid.NewString(), id, sock)
	c.setRemote(offer.addr)
	c.srvDialog = dlg
	b.mu.Lock()
	b.calls[c.ixID], b.uas[dlg.ID] = c, c
	b.mu.Unlock()
	_ = dlg.Respond(180, "Ringing", nil)
	from := req.From().Address.User
	name := strings.Trim(req.From().DisplayName, `"`)
	if _, err := b.Service.IncomingCall(ctx, workspace.InboundCall{ID: c.ixID, IdentityID: id.ID, From: from, Name: name}); err != nil {
		slog.Warn("voice: incoming call", "err", err)
		if _, rerr := b.Service.Store.Interaction(ctx, c.ixID); rerr != nil { // nothing was created
			_ = dlg.Respond(500, "Server Internal Error", nil)
			c.close()
			return
		}
	}
	if err := dlg.RespondSDP(c.sdp()); err != nil {
		c.remoteGone()
		return
	}
	c.start(dlg.Context())
}

// onAck confirms a dialog agentdesk answered.
func (b *Bridge) onAck(req *sip.Request, tx sip.ServerTransaction) {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return
	}
	b.mu.Lock()
	c := b.uas[id]
	b.mu.Unlock()
	if c != nil && c.srvDialog != nil {
		_ = c.srvDialog.ReadAck(req, tx)
	}
}

// onBye ends the call of a dialog: the customer hung up.
func (b *Bridge) onBye(req *sip.Request, tx sip.ServerTransaction) {
	var c *call
	b.mu.Lock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		c = b.uas[id]
	}
	if c == nil {
		if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
			c = b.uac[id]
		}
	}
	b.mu.Unlock()
	if c == nil {
		if hp := b.reg.byBye(req); hp != nil { // the agent hung up their hardphone (X2)
			hp.readBye(req, tx)
			return
		}
		respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	switch {
	case c.srvDialog != nil:
		if err := c.srvDialog.ReadBye(req, tx); err != nil {
			respond(req, tx, 400, "Bad Request")
			return
		}
	case c.cliDialog != nil:
		if err := c.cliDialog.ReadBye(req, tx); err != nil {
			respond(req, tx, 400, "Bad Request")
			return
		}
	}
	c.remoteGone()
}

// nonce makes a digest nonce that proves itself: a time and its MAC.
func (b *Bridge) nonce(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	m := hmac.New(sha256.New, b.secret)
	m.Write([]byte(ts))
	return ts + "." + hex.EncodeToString(m.Sum(nil)[:12])
}

// nonceFresh checks a nonce this Bridge made within five minutes.
func (b *Bridge) nonceFresh(n string, now time.Time) bool {
	ts, _, ok := strings.Cut(n, ".")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || !hmac.Equal([]byte(b.nonce(time.Unix(sec, 0))), []byte(n)) {
		return false
	}
	age := now.Sub(time.Unix(sec, 0))
	return age >= -time.Minute && age <= 5*time.Minute
}

// Hangup implements workspace.Calls.
func (b *Bridge) Hangup(ixID string) {
	if c := b.call(ixID); c != nil {
		c.hangup()
	}
}

// Live implements workspace.Calls.
func (b *Bridge) Live(ixID string) bool { return b.call(ixID) != nil }

// Detach implements workspace.Calls: the agent's leg goes, the customer hears the hold tone.
func (b *Bridge) Detach(ixID string) {
	if c := b.call(ixID); c != nil {
		c.setAgent(nil)
		c.stopRinging()
	}
}

// Offered implements workspace.Calls: an agent on a hardphone hears it ring.
func (b *Bridge) Offered(ctx context.Context, ix *workspace.Interaction, a *workspace.Agent) {
	if workspace.CallEndpointOf(a) != workspace.Hardphone {
		return
	}
	if c := b.call(ix.ID); c != nil {
		b.ringHardphone(c, ix, a)
	}
}

// Connect implements workspace.Calls: the agent who now holds the call joins it on their
// endpoint. On the softphone agentdesk offers WebRTC to their browser (rtcSignals); on the
// hardphone the phone that answered the offer carries it.
func (b *Bridge) Connect(ctx context.Context, ix *workspace.Interaction, a *workspace.Agent) error {
	c := b.call(ix.ID)
	if c == nil {
		return errors.New("the call is gone")
	}
	if workspace.CallEndpointOf(a) == workspace.Hardphone {
		if err := b.connectHardphone(c, ix, a); err == nil {
			return nil
		}
		// Accepted in the browser while the phone did not pick up (or is not registered):
		// the call goes to the softphone rather than being dropped.
	}
	leg, err := b.rtc.newLeg(c, a.ID)
	if err != nil {
		return err
	}
	c.setAgent(leg)
	return leg.offer()
}

// Signal implements workspace.Calls.
func (b *Bridge) Signal(ctx context.Context, ixID, typ, payload string) error {
	c := b.call(ixID)
	if c == nil {
		return workspace.Errorf(workspace.EWRONGSTATE, "the call is gone")
	}
	leg, ok := c.agentLeg().(*rtcLeg)
	if !ok {
		return workspace.Errorf(workspace.EWRONGSTATE, "this call is not on the softphone")
	}
	return leg.signal(typ, payload)
}

// Control implements workspace.Calls.
func (b *Bridge) Control(ctx context.Context, ixID string, cc workspace.CallControl) error {
	c := b.call(ixID)
	if c == nil {
		return workspace.Errorf(workspace.EWRONGSTATE, "the call is gone")
	}
	c.control(cc)
	return nil
}

// watchLost ends calls whose agent's browser has been gone longer than the workspace allows.
func (b *Bridge) watchLost(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			b.CheckLost()
		}
	}
}

// CheckLost asks the workspace about every call whose agent leg lost its network; the
// workspace ends those past its grace (by its clock, so tests need not wait).
func (b *Bridge) CheckLost() {
	b.mu.Lock()
	var lost []*call
	for _, c := range b.calls {
		if leg, ok := c.agentLeg().(*rtcLeg); ok && !leg.lostSince().IsZero() {
			lost = append(lost, c)
		}
	}
	b.mu.Unlock()
	for _, c := range lost {
		leg, ok := c.agentLeg().(*rtcLeg)
		if !ok {
			continue
		}
		if since := leg.lostSince(); !since.IsZero() {
			if _, err := b.Service.AgentLost(b.ctx, c.ixID, since); err != nil && b.ctx.Err() == nil {
				slog.Warn("voice: lost agent leg", "err", err)
			}
		}
	}
}
