package voice

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/agentdesk/agentdesk/voice/media"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Dial implements workspace.Calls: an outbound (or consult, X1) call to the trunk of the
// identity. It returns once the INVITE is sent; the answer is awaited in the background, and
// a call not answered is ended by the system with the trunk's reason.
func (b *Bridge) Dial(ctx context.Context, ix *workspace.Interaction, id *workspace.Identity) error {
	host, portText, err := net.SplitHostPort(id.Settings["trunkAddress"])
	if err != nil {
		return errors.New("the identity has no trunk address")
	}
	port, _ := strconv.Atoi(portText)
	sock, err := media.Listen(b.mediaIP)
	if err != nil {
		return err
	}
	c := newCall(b, ix.ID, id, sock)
	callerID := id.Settings["callerId"]
	if callerID == "" {
		callerID = id.Address
	}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: ix.Contact.Address, Host: host, Port: port})
	req.SetBody(c.sdp())
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(&sip.FromHeader{DisplayName: id.Name, Address: sip.Uri{Scheme: "sip", User: callerID, Host: b.mediaIP.String(), Port: b.addr.Port}, Params: tagged()})
	dctx, cancel := context.WithCancel(b.ctx)
	c.dialCancel = cancel
	dlg, err := b.dialogs.WriteInvite(dctx, req)
	if err != nil {
		cancel()
		c.close()
		return err
	}
	c.cliDialog = dlg
	b.mu.Lock()
	b.calls[c.ixID] = c
	b.mu.Unlock()
	go func() {
		err := dlg.WaitAnswer(dctx, sipgo.AnswerOptions{Username: id.Settings["username"], Password: id.Settings["password"]})
		if err == nil {
			var ans *offerSDP
			if ans, err = parseSDP(dlg.InviteResponse.Body()); err == nil && !ans.pcmu {
				err = errors.New("the callee does not take PCMU")
			}
			if err == nil {
				c.setRemote(ans.addr)
				err = dlg.Ack(dctx)
			}
		}
		if c.byUs.Load() { // hung up while it rang: WaitAnswer cancelled the INVITE, or the answer crossed the CANCEL
			if dlg.LoadState() >= sip.DialogStateEstablished {
				bctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
				_ = dlg.Ack(bctx)
				_ = dlg.Bye(bctx)
				cancel()
			}
			c.close()
			return
		}
		if err != nil {
			c.byUs.Store(true)
			c.close()
			why := "The call was not answered"
			var res *sipgo.ErrDialogResponse
			if errors.As(err, &res) {
				why += ": " + strconv.Itoa(res.Res.StatusCode) + " " + res.Res.Reason
			}
			if _, err := b.Service.CallEnded(context.WithoutCancel(b.ctx), c.ixID, workspace.PartySystem); err != nil {
				slog.Warn("voice: unanswered call", "err", err)
			} else {
				b.Service.CallNote(context.WithoutCancel(b.ctx), c.ixID, why)
			}
			return
		}
		b.mu.Lock()
		b.uac[dlg.ID] = c
		b.mu.Unlock()
		c.start(dlg.Context())
	}()
	return nil
}

// tagged is a From header's parameters with a fresh tag.
func tagged() sip.HeaderParams {
	p := sip.NewParams()
	p.Add("tag", sip.GenerateTagN(16))
	return p
}
