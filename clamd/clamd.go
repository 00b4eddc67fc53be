// Package clamd is a workspace.Scanner that asks ClamAV's clamd over TCP, with the INSTREAM
// command: the file is streamed in chunks and never held whole.
//
// The protocol (clamd(8)): send "zINSTREAM\0", then chunks, each a 4-byte big-endian length
// and that many bytes, then a zero length; clamd answers "stream: OK", "stream: <name> FOUND"
// or "<reason> ERROR", ended by '\0'. clamd counts the bytes against its StreamMaxLength and,
// past it, answers "INSTREAM size limit exceeded. ERROR" and closes the connection.
package clamd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// ChunkSize is the size of the chunks a Scan sends.
const ChunkSize = 64 << 10

// maxReply bounds what is read of clamd's answer.
const maxReply = 4 << 10

// ErrSizeLimit is what Scan returns (wrapped in *Error) when the file is longer than clamd's
// StreamMaxLength.
var ErrSizeLimit = errors.New("clamd: the file is longer than clamd's StreamMaxLength")

// Error is an ERROR answer from clamd: no verdict.
type Error struct {
	// Reply is clamd's answer, e.g. "INSTREAM size limit exceeded. ERROR".
	Reply string
}

func (e *Error) Error() string { return "clamd: " + e.Reply }

// Is makes errors.Is(err, ErrSizeLimit) true for clamd's size-limit answer.
func (e *Error) Is(target error) bool {
	return target == ErrSizeLimit && strings.Contains(e.Reply, "size limit exceeded")
}

// Client talks to one clamd. Its zero value is not usable; use New.
type Client struct {
	addr string
	// Timeout bounds a Scan or Ping whose ctx has no deadline (0: no bound).
	Timeout time.Duration
	dialer  net.Dialer
}

var _ workspace.Scanner = (*Client)(nil)

// New returns a client for the clamd listening at addr (host:port, clamd.conf's TCPSocket
// and TCPAddr). It connects anew for every Scan, as clamd closes an INSTREAM connection.
func New(addr string) *Client {
	return &Client{addr: addr, Timeout: 2 * time.Minute}
}

// Addr is the address of clamd.
func (c *Client) Addr() string { return c.addr }

// dial connects, and makes the connection follow ctx (bounded by Timeout if ctx has no
// deadline): when ctx ends, any read or write in progress is interrupted. It returns the ctx to judge errors by and what to call when done.
func (c *Client) dial(ctx context.Context) (net.Conn, context.Context, func(), error) {
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok && c.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		cancel()
		return nil, nil, nil, ctxErr(ctx, fmt.Errorf("clamd: connect to %s: %w", c.addr, err))
	}
	// Only ctx sets the deadline, so an I/O error from it always finds ctx ended.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return conn, ctx, func() { stop(); _ = conn.Close(); cancel() }, nil
}

// ctxErr prefers ctx's error to the I/O error its deadline caused.
func ctxErr(ctx context.Context, err error) error {
	if cerr := context.Cause(ctx); cerr != nil {
		return fmt.Errorf("clamd: %w", cerr)
	}
	return err
}

// Ping checks that clamd answers (zPING → PONG).
func (c *Client) Ping(ctx context.Context) error {
	conn, ctx, done, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return ctxErr(ctx, fmt.Errorf("clamd: ping: %w", err))
	}
	reply, err := readReply(conn)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("clamd: ping: %w", err))
	}
	if reply != "PONG" {
		return fmt.Errorf("clamd: ping: unexpected answer %q", reply)
	}
	return nil
}

// Scan streams r to clamd and returns its verdict; see workspace.Scanner. It reads r to its
// end unless clamd, r or ctx fails first. Any error means no verdict: clamd unreachable or
// gone, an ERROR answer (*Error; the size limit is ErrSizeLimit), r's error, ctx ended.
func (c *Client) Scan(ctx context.Context, r io.Reader) (workspace.Verdict, error) {
	conn, ctx, done, err := c.dial(ctx)
	if err != nil {
		return workspace.Verdict{}, err
	}
	defer done()

	// clamd answers once, at the end, or early when it gives up (the size limit), then
	// closes: the answer is read alongside the chunks, so an early one is never lost to a
	// write failing on the closed connection.
	type answer struct {
		reply string
		err   error
	}
	answers := make(chan answer, 1)
	if _, err := conn.Write([]byte("zINSTREAM\x00")); err != nil {
		return workspace.Verdict{}, ctxErr(ctx, fmt.Errorf("clamd: send: %w", err))
	}
	go func() {
		reply, err := readReply(conn)
		answers <- answer{reply, err}
	}()
	result := func(a answer) (workspace.Verdict, error) {
		if a.err != nil {
			return workspace.Verdict{}, ctxErr(ctx, fmt.Errorf("clamd: reading the answer: %w", a.err))
		}
		return parse(a.reply)
	}
	// afterFailedSend waits briefly for an answer that explains why clamd stopped reading.
	afterFailedSend := func(werr error) (workspace.Verdict, error) {
		if ctx.Err() == nil {
			select {
			case a := <-answers:
				if a.err == nil {
					return parse(a.reply)
				}
			case <-time.After(2 * time.Second):
			}
		}
		return workspace.Verdict{}, ctxErr(ctx, fmt.Errorf("clamd: send: %w", werr))
	}

	r = ctxReader{ctx, r}
	buf := make([]byte, 4+ChunkSize)
	for {
		n, rerr := io.ReadFull(r, buf[4:])
		if err := ctx.Err(); err != nil {
			return workspace.Verdict{}, ctxErr(ctx, err)
		}
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return workspace.Verdict{}, fmt.Errorf("clamd: reading the file: %w", rerr)
		}
		select {
		case a := <-answers: // clamd answered before the end: an error, or an odd clamd
			if _, err := result(a); err != nil {
				return workspace.Verdict{}, err
			}
			return workspace.Verdict{}, fmt.Errorf("clamd: answered %q before the end of the file", a.reply)
		default:
		}
		if n > 0 {
			binary.BigEndian.PutUint32(buf, uint32(n))
			if _, err := conn.Write(buf[:4+n]); err != nil {
				return afterFailedSend(err)
			}
		}
		if rerr != nil { // EOF: the whole file has been sent
			break
		}
	}
	if _, err := conn.Write([]byte{0, 0, 0, 0}); err != nil {
		return afterFailedSend(err)
	}
	return result(<-answers)
}

// ctxReader stops reading a slow file once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readReply reads one '\0'-terminated answer (or what came before EOF).
func readReply(conn net.Conn) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(conn, maxReply), 512)
	reply, err := br.ReadString(0)
	if err == io.EOF && reply != "" {
		err = nil // clamd closed without the terminator
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(reply, "\x00\n"), nil
}

// parse turns an INSTREAM answer into a verdict.
func parse(reply string) (workspace.Verdict, error) {
	switch {
	case reply == "stream: OK":
		return workspace.Verdict{}, nil
	case strings.HasPrefix(reply, "stream: ") && strings.HasSuffix(reply, " FOUND"):
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(reply, "stream: "), " FOUND"))
		if name == "" {
			return workspace.Verdict{}, fmt.Errorf("clamd: unexpected answer %q", reply)
		}
		return workspace.Verdict{Infected: true, Signature: name}, nil
	case strings.HasSuffix(reply, " ERROR"):
		return workspace.Verdict{}, &Error{Reply: reply}
	default:
		return workspace.Verdict{}, fmt.Errorf("clamd: unexpected answer %q", reply)
	}
}
