package server_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	coderws "github.com/coder/websocket"
)

// TestIdleSocketsLeaveNetHTTP (issue 14 §4): once a connection is a websocket, net/http's
// goroutine for it returns, so an idle socket does not keep that goroutine's deep stack nor
// net/http's buffers and request; the socket is served on a goroutine of its own, and the
// open-websocket gauge still counts it until it closes.
func TestIdleSocketsLeaveNetHTTP(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	id := agentID(t, m, token)
	const n = 5
	var conns []*coderws.Conn
	for range n {
		ws := connectWS(t, m, "graphql-transport-ws", token)
		ws.expect("connection_ack")
		ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": offersSubscription}})
		conns = append(conns, ws.conn)
	}
	waitFor(t, func() bool { return m.Hub.Subscribers(workspace.AgentTopic(id)) == n })
	var stacks bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&stacks, 2); err != nil {
		t.Fatal(err)
	}
	loops := 0
	for _, g := range strings.Split(stacks.String(), "\n\n") {
		if !strings.Contains(g, "(*wsConnection).run(") {
			continue
		}
		loops++
		if strings.Contains(g, "net/http.(*conn).serve") {
			t.Fatalf("a websocket's read loop runs on net/http's goroutine:\n%s", g)
		}
	}
	if loops != n {
		t.Fatalf("%d read loops for %d sockets", loops, n)
	}
	if got := openWebsockets(t, m); got != n {
		t.Fatalf("the gauge counts %d open websockets, want %d", got, n)
	}
	// Still live: an offer reaches every socket.
	publishOffer(t, m, id)
	for _, c := range conns {
		ws := &wsClient{t: t, conn: c, ctx: t.Context()}
		checkOfferPayload(t, ws.expect("next").Payload)
	}
	for _, c := range conns {
		c.Close(coderws.StatusNormalClosure, "")
	}
	waitFor(t, func() bool { return openWebsockets(t, m) == 0 && m.Hub.Subscribers(workspace.AgentTopic(id)) == 0 })
}

// openWebsockets reads the open-websocket gauge from the node's metrics.
func openWebsockets(t *testing.T, m *server.Main) int {
	t.Helper()
	res, err := http.Get(m.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "agentdesk_websockets_open "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatal("no agentdesk_websockets_open in the metrics")
	return 0
}

// TestWebsocketEarlyFramesAndLongMessages: the server reads and writes websockets through
// buffers of its own, smaller than net/http's. A client that sends connection_init in the
// same write as its upgrade request (so it sits in net/http's buffer when the connection is
// handed over) is answered, and messages longer than the buffers pass both ways.
func TestWebsocketEarlyFramesAndLongMessages(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	upgrade := "GET /query HTTP/1.1\r\nHost: " + strings.TrimPrefix(m.URL(), "http://") + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
	initMsg, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
	if _, err := conn.Write(append([]byte(upgrade), clientFrame(initMsg)...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	if msg := serverMessage(t, br); msg.Type != "connection_ack" {
		t.Fatalf("after an early connection_init: %s %s", msg.Type, msg.Payload)
	}
	// A query of a few kilobytes (padded), answered with a few kilobytes (the schema's types).
	query := "{" + strings.Repeat(" ", 3000) + "__schema { types { name } } }"
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	if _, err := conn.Write(clientFrame(sub)); err != nil {
		t.Fatal(err)
	}
	msg := serverMessage(t, br)
	if msg.Type != "next" || len(msg.Payload) < 2048 || !strings.Contains(string(msg.Payload), `"DeskEvent"`) {
		t.Fatalf("a long query: %s %d bytes: %.300s", msg.Type, len(msg.Payload), msg.Payload)
	}
	if msg := serverMessage(t, br); msg.Type != "complete" {
		t.Fatalf("after the long answer: %s %s", msg.Type, msg.Payload)
	}
	// And the socket goes on.
	me, _ := json.Marshal(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": "{ me { username } }"}})
	if _, err := conn.Write(clientFrame(me)); err != nil {
		t.Fatal(err)
	}
	if msg := serverMessage(t, br); msg.Type != "next" || !strings.Contains(string(msg.Payload), `"alice"`) {
		t.Fatalf("after a long message: %s %s", msg.Type, msg.Payload)
	}
}

// clientFrame is one masked text frame, as a client sends it.
func clientFrame(payload []byte) []byte {
	frame := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	case n <= 0xffff:
		frame = append(frame, 0x80|126)
		frame = binary.BigEndian.AppendUint16(frame, uint16(n))
	default:
		frame = append(frame, 0x80|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	mask := []byte{0x12, 0x34, 0x56, 0x78}
	frame = append(frame, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	return frame
}

// serverMessage reads the server's next text frame (unmasked, unfragmented) as a message,
// skipping keep-alives and control frames.
func serverMessage(t *testing.T, br *bufio.Reader) wsMessage {
	t.Helper()
	for {
		var head [2]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			t.Fatal(err)
		}
		n := uint64(head[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(br, ext[:]); err != nil {
				t.Fatal(err)
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(br, ext[:]); err != nil {
				t.Fatal(err)
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatal(err)
		}
		if head[0] != 0x81 { // a ping, or anything but a whole text frame
			continue
		}
		var msg wsMessage
		if err := json.Unmarshal(payload, &msg); err != nil {
			t.Fatalf("frame %q: %v", payload, err)
		}
		if msg.Type != "ka" && msg.Type != "ping" && msg.Type != "pong" {
			return msg
		}
	}
}
