package storetest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
)

// testSigningKeys: the first key stored under a name is the one every later caller gets,
// also when callers race and after a restart; names are separate.
func testSigningKeys(t *testing.T, open func() workspace.Store) {
	s := open()
	first := bytes.Repeat([]byte{1}, 32)
	got, err := s.SigningKey(ctx(t), "file-links", first)
	must(t, err)
	if !bytes.Equal(got, first) {
		t.Fatalf("the first call got %x, want the key it stored", got)
	}
	got, err = s.SigningKey(ctx(t), "file-links", bytes.Repeat([]byte{2}, 32))
	must(t, err)
	if !bytes.Equal(got, first) {
		t.Fatalf("a second call got %x, want the first key", got)
	}
	other, err := s.SigningKey(ctx(t), "other", bytes.Repeat([]byte{3}, 32))
	must(t, err)
	if !bytes.Equal(other, bytes.Repeat([]byte{3}, 32)) {
		t.Fatalf("another name got %x", other)
	}

	// Eight callers race for a new name: all of them get one and the same stored key.
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	errs := make([]error, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = s.SigningKey(ctx(t), "raced", []byte{byte(i), 9, 9, 9})
		}()
	}
	wg.Wait()
	for i := range keys {
		must(t, errs[i])
		if !bytes.Equal(keys[i], keys[0]) || len(keys[0]) != 4 {
			t.Fatalf("racing callers got different keys: %x", keys)
		}
	}

	must(t, s.Close())
	s = open()
	got, err = s.SigningKey(ctx(t), "file-links", bytes.Repeat([]byte{4}, 32))
	must(t, err)
	if !bytes.Equal(got, first) {
		t.Fatalf("after a restart the key is %x, want the first one", got)
	}
}
