package voice_test

import (
	"testing"

	"github.com/agentdesk/agentdesk/voice"
	"github.com/agentdesk/agentdesk/workspace"
)

func TestVoice_DemoCallerTakesAndPlacesCalls(t *testing.T) {
	e := newEnv(t)
	caller, err := voice.NewCaller("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	id := e.identity(`{"trunkAddress":"` + caller.Addr().String() + `"}`)
	// The desk calls the caller: it answers and plays its prompt.
	call, err := e.s.StartCall(e.as("alice"), workspace.StartCallInput{To: "+442079460000", IdentityID: id.ID})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the caller in the call", func() bool { return caller.State().InCall })
	if _, err := e.s.EndInteraction(e.as("alice"), call.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the caller hung up", func() bool { return !caller.State().InCall })
	noSockets(t)
}
