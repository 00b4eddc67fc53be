package clamd_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/clamd"
	"github.com/agentdesk/agentdesk/clamd/clamdtest"
)

// random is n reproducible pseudo-random bytes, streamed.
func random(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed)}), n)
}

// TestRealClamd runs the scanner against Debian's clamd with the custom signatures.
func TestRealClamd(t *testing.T) {
	srv := clamdtest.Start(t, clamdtest.Options{})
	c := srv.Client()
	ctx := t.Context()

	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("EICAR", func(t *testing.T) {
		v, err := c.Scan(ctx, bytes.NewReader(clamdtest.EICAR))
		if err != nil {
			t.Fatal(err)
		}
		if !v.Infected || !strings.HasPrefix(v.Signature, clamdtest.EICARSignature) {
			t.Fatalf("EICAR: %+v, want infected with %s", v, clamdtest.EICARSignature)
		}
		t.Logf("clamd names it %q", v.Signature)
	})
	t.Run("EICARWithTrailingNewline", func(t *testing.T) {
		// The MD5 signature matches the 68 bytes only; the offset-0 one catches this.
		v, err := c.Scan(ctx, bytes.NewReader(append(clamdtest.EICAR, "\r\n"...)))
		if err != nil {
			t.Fatal(err)
		}
		if !v.Infected || !strings.HasPrefix(v.Signature, clamdtest.EICARSignature) {
			t.Fatalf("EICAR + newline: %+v, want infected with %s", v, clamdtest.EICARSignature)
		}
	})
	t.Run("EICARAfterNewline", func(t *testing.T) {
		// EICAR counts only at the very start of a file: ClamAV is strict about it.
		v, err := c.Scan(ctx, bytes.NewReader(append([]byte("\n"), clamdtest.EICAR...)))
		if err != nil {
			t.Fatal(err)
		}
		if v.Infected {
			t.Fatalf("EICAR after a newline: %+v, want clean", v)
		}
	})
	t.Run("Clean", func(t *testing.T) {
		v, err := c.Scan(ctx, random(1, 5<<20+7))
		if err != nil {
			t.Fatal(err)
		}
		if v.Infected {
			t.Fatalf("random bytes: %+v, want clean", v)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		v, err := c.Scan(ctx, bytes.NewReader(nil))
		if err != nil || v.Infected {
			t.Fatalf("empty file: %+v, %v; want clean", v, err)
		}
	})
	t.Run("MarkerAcrossChunks", func(t *testing.T) {
		// The marker straddles a chunk boundary deep inside a few MB: clamd reassembles the
		// stream, and the verdict comes from the whole file.
		at := int64(3*clamd.ChunkSize*16 - len(clamdtest.Marker)/2)
		r := io.MultiReader(random(2, at), bytes.NewReader(clamdtest.Marker), random(3, 2<<20))
		v, err := c.Scan(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Infected || !strings.HasPrefix(v.Signature, clamdtest.MarkerSignature) {
			t.Fatalf("marker inside a file: %+v, want infected with %s", v, clamdtest.MarkerSignature)
		}
	})
	t.Run("OverStreamMaxLength", func(t *testing.T) {
		// 30M is clamd's limit here; a 31 MiB stream is refused with an ERROR: no verdict.
		v, err := c.Scan(ctx, random(4, 31<<20))
		if err == nil {
			t.Fatalf("31 MiB over a 30M limit: %+v, want an error", v)
		}
		if !errors.Is(err, clamd.ErrSizeLimit) {
			t.Fatalf("31 MiB over a 30M limit: %v, want ErrSizeLimit", err)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		// A reader slower than the deadline: the scan ends with the ctx's error.
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		v, err := c.Scan(ctx, &slowReader{r: random(5, 1<<20), delay: 100 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("slow file past the deadline: %+v, %v; want DeadlineExceeded", v, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v to notice the deadline", d)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		errs := make(chan error, 6)
		for i := range 6 {
			go func() {
				var r io.Reader = random(uint64(10+i), 1<<20)
				if i%2 == 0 {
					r = bytes.NewReader(clamdtest.EICAR)
				}
				v, err := c.Scan(ctx, r)
				if err == nil && v.Infected != (i%2 == 0) {
					err = errors.New("wrong verdict")
				}
				errs <- err
			}()
		}
		for range 6 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})

	// Last: a stopped clamd gives errors, never a clean verdict.
	t.Run("Stopped", func(t *testing.T) {
		srv.Stop()
		v, err := c.Scan(ctx, bytes.NewReader([]byte("hello")))
		if err == nil {
			t.Fatalf("scan with clamd stopped: %+v, want an error", v)
		}
		if err := c.Ping(ctx); err == nil {
			t.Fatal("ping with clamd stopped succeeded")
		}
	})
}

type slowReader struct {
	r     io.Reader
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	if len(p) > 1000 {
		p = p[:1000]
	}
	return s.r.Read(p)
}

// fakeClamd accepts connections and hands each to serve.
func fakeClamd(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				serve(conn)
			}()
		}
	}()
	return l.Addr().String()
}

// readStream reads an INSTREAM command and its chunks, checking the framing, and returns the
// bytes and the largest chunk.
func readStream(conn net.Conn) ([]byte, int, error) {
	cmd := make([]byte, len("zINSTREAM\x00"))
	if _, err := io.ReadFull(conn, cmd); err != nil || string(cmd) != "zINSTREAM\x00" {
		return nil, 0, errors.New("bad command " + string(cmd))
	}
	var data []byte
	largest := 0
	for {
		var n uint32
		if err := binary.Read(conn, binary.BigEndian, &n); err != nil {
			return nil, 0, err
		}
		if n == 0 {
			return data, largest, nil
		}
		largest = max(largest, int(n))
		chunk := make([]byte, n)
		if _, err := io.ReadFull(conn, chunk); err != nil {
			return nil, 0, err
		}
		data = append(data, chunk...)
	}
}

// TestProtocol checks the framing and the parsing of answers against a fake clamd.
func TestProtocol(t *testing.T) {
	var got []byte
	var largest int
	answer := "stream: OK"
	addr := fakeClamd(t, func(conn net.Conn) {
		data, big, err := readStream(conn)
		if err != nil {
			t.Error(err)
			return
		}
		got, largest = data, big
		conn.Write([]byte(answer + "\x00"))
	})
	c := clamd.New(addr)
	want, _ := io.ReadAll(random(7, 300_000))

	for _, tc := range []struct {
		answer   string
		infected bool
		sig      string
		err      bool
	}{
		{"stream: OK", false, "", false},
		{"stream: Win.Test.EICAR_HDB-1 FOUND", true, "Win.Test.EICAR_HDB-1", false},
		{"stream: Eicar-Test-Signature.UNOFFICIAL FOUND", true, "Eicar-Test-Signature.UNOFFICIAL", false},
		{"INSTREAM size limit exceeded. ERROR", false, "", true},
		{"Some other failure. ERROR", false, "", true},
		{"UNKNOWN COMMAND", false, "", true},
		{"stream:  FOUND", false, "", true},
	} {
		answer = tc.answer
		v, err := c.Scan(t.Context(), bytes.NewReader(want))
		if (err != nil) != tc.err || v.Infected != tc.infected || v.Signature != tc.sig {
			t.Errorf("answer %q: %+v, %v", tc.answer, v, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("answer %q: clamd got %d bytes, want the %d sent", tc.answer, len(got), len(want))
		}
		if largest > clamd.ChunkSize {
			t.Fatalf("a chunk of %d bytes, more than %d", largest, clamd.ChunkSize)
		}
	}
}

// TestNoAnswer: a clamd that takes the file and never answers ends with the ctx's deadline.
func TestNoAnswer(t *testing.T) {
	addr := fakeClamd(t, func(conn net.Conn) {
		readStream(conn)
		time.Sleep(10 * time.Second)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	v, err := clamd.New(addr).Scan(ctx, random(8, 1000))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%+v, %v; want DeadlineExceeded", v, err)
	}
	// Without a deadline on ctx, the client's Timeout bounds the scan.
	c := clamd.New(addr)
	c.Timeout = 200 * time.Millisecond
	if _, err := c.Scan(t.Context(), random(8, 1000)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v; want DeadlineExceeded from the client's Timeout", err)
	}
}

// TestEarlyError: a clamd that answers ERROR and closes mid-stream (the size limit) gives
// that answer, not a broken pipe.
func TestEarlyError(t *testing.T) {
	addr := fakeClamd(t, func(conn net.Conn) {
		io.CopyN(io.Discard, conn, 100_000)
		conn.Write([]byte("INSTREAM size limit exceeded. ERROR\x00"))
	})
	_, err := clamd.New(addr).Scan(t.Context(), random(9, 50<<20))
	if !errors.Is(err, clamd.ErrSizeLimit) {
		t.Fatalf("%v; want ErrSizeLimit", err)
	}
}

// TestReaderError: the file's own read error is no verdict.
func TestReaderError(t *testing.T) {
	addr := fakeClamd(t, func(conn net.Conn) { io.Copy(io.Discard, conn) })
	boom := errors.New("boom")
	_, err := clamd.New(addr).Scan(t.Context(), io.MultiReader(random(10, 100_000), &errReader{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("%v; want the reader's error", err)
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// TestUnreachable: nothing listening is an error.
func TestUnreachable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if _, err := clamd.New(addr).Scan(t.Context(), bytes.NewReader([]byte("x"))); err == nil {
		t.Fatal("scan with nothing listening succeeded")
	}
}
