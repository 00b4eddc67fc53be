import { useCallback, useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { formatClock, secondsBetween } from '../clock/format';
import { useNow } from '../clock/useNow';
import { useSubscriptionEvents } from '../connection/useSubscriptionEvents';
import { graphql } from '../gql';
import type { LogCardFragment } from '../gql/graphql';
import { contactName } from '../log/channel';

const RtcSignalsSubscription = graphql(`
  subscription RtcSignals {
    rtcSignals {
      interactionId
      type
      payload
    }
  }
`);

const SendRtcSignalMutation = graphql(`
  mutation SendRtcSignal($input: RtcSignalInput!) {
    sendRtcSignal(input: $input)
  }
`);

const ControlCallMutation = graphql(`
  mutation ControlCall($input: ControlCallInput!) {
    controlCall(input: $input)
  }
`);

const AnswerCallMutation = graphql(`
  mutation AnswerCall($input: OfferInput!) {
    acceptOffer(input: $input) {
      interaction {
        ...LogInteraction
      }
      userErrors {
        code
        message
      }
    }
  }
`);

const EndCallMutation = graphql(`
  mutation EndCall($input: InteractionInput!) {
    endInteraction(input: $input) {
      interaction {
        ...LogInteraction
      }
      userErrors {
        code
        message
      }
    }
  }
`);

/** The message shown when the browser refuses the microphone. */
export const MIC_DENIED =
  'Microphone access is blocked, so the caller cannot hear you. Allow the microphone for this site (the icon in the address bar), then reload the page.';

export const KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** One softphone call: agentdesk's WebRTC offer answered with the agent's microphone. */
interface Leg {
  interactionId: string;
  pc: RTCPeerConnection;
  mic: MediaStream | null;
  audio: HTMLAudioElement;
}

type Send = (interactionId: string, type: string, payload: string) => Promise<unknown>;

/** Waits until the connection has gathered its candidates (loopback and host: quick), at most 3 s. */
function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === 'complete') {
        pc.removeEventListener('icegatheringstatechange', done);
        resolve();
      }
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 3000);
  });
}

/** Answers agentdesk's offer: the microphone if the browser allows it, else listen only. */
async function answer(leg: Leg, sdp: string, send: Send, onMicDenied: () => void) {
  await leg.pc.setRemoteDescription({ type: 'offer', sdp });
  if (!leg.mic) {
    try {
      leg.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      onMicDenied();
    }
  }
  const transceiver = leg.pc.getTransceivers()[0];
  const track = leg.mic?.getAudioTracks()[0];
  if (transceiver && track) {
    await transceiver.sender.replaceTrack(track);
    transceiver.direction = 'sendrecv';
  } else if (transceiver) {
    transceiver.direction = 'recvonly';
  }
  await leg.pc.setLocalDescription(await leg.pc.createAnswer());
  await gathered(leg.pc);
  await send(leg.interactionId, 'answer', leg.pc.localDescription?.sdp ?? '');
}

/** Lets go of a call's connection, microphone and audio. */
function closeLeg(leg: Leg) {
  leg.pc.close();
  leg.mic?.getTracks().forEach((t) => t.stop());
  leg.audio.srcObject = null;
}

/** The call the softphone shows: the agent's ringing or live call, if any. */
function currentCall(interactions: readonly LogCardFragment[]) {
  const calls = interactions.filter((i) => i.channel === 'VOICE');
  return (
    calls.find((i) => i.state === 'ACTIVE' && i.callEndpoint !== 'HARDPHONE') ??
    calls.find((i) => i.state === 'OFFERED') ??
    null
  );
}

/**
 * The softphone (X2): it answers agentdesk's WebRTC offers for the agent's calls, plays the
 * caller, and shows ringing, answer, mute, hold, the keypad (DTMF), end, the call timer and
 * audio level meters (the caller's and the agent's own). When the browser refuses the
 * microphone, it says so and the agent still hears the caller. A lost network is recovered
 * with an ICE restart; past 30 s the server ends the call.
 */
export function Softphone({
  interactions,
  onAnswered,
}: {
  interactions: readonly LogCardFragment[];
  /** The call was answered here: the desk opens it. */
  onAnswered?: (id: string) => void;
}) {
  const [, sendSignal] = useMutation(SendRtcSignalMutation);
  const [, control] = useMutation(ControlCallMutation);
  const [answering, answerCall] = useMutation(AnswerCallMutation);
  const [ending, endCall] = useMutation(EndCallMutation);
  const legs = useRef(new Map<string, Leg>());
  const [micDenied, setMicDenied] = useState(false);
  // In-call toggles, kept with the call they belong to, so the next call starts fresh.
  const [toggles, setToggles] = useState({ callId: '', muted: false, held: false, keypad: false });
  const [error, setError] = useState<string | null>(null);
  const [levels, setLevels] = useState({ caller: 0, you: 0, packets: 0 });
  const call = currentCall(interactions);
  const now = useNow();

  const send = useCallback<Send>(
    (interactionId, type, payload) => sendSignal({ input: { interactionId, type, payload } }),
    [sendSignal],
  );

  const legFor = useCallback(
    (interactionId: string): Leg => {
      const existing = legs.current.get(interactionId);
      if (existing) return existing;
      const pc = new RTCPeerConnection();
      const audio = new Audio();
      audio.autoplay = true;
      pc.ontrack = (event) => {
        audio.srcObject = event.streams[0] ?? new MediaStream([event.track]);
        void audio.play().catch(() => undefined);
      };
      pc.oniceconnectionstatechange = () => {
        if (pc.iceConnectionState === 'failed' || pc.iceConnectionState === 'disconnected') {
          // The network changed or dropped: restart ICE; the server keeps the call 30 s.
          void (async () => {
            try {
              await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
              await gathered(pc);
              await send(interactionId, 'offer', pc.localDescription?.sdp ?? '');
            } catch {
              // the server ends the call after its grace
            }
          })();
        }
      };
      const leg: Leg = { interactionId, pc, mic: null, audio };
      legs.current.set(interactionId, leg);
      return leg;
    },
    [send],
  );

  useSubscriptionEvents(RtcSignalsSubscription, {}, ({ rtcSignals: signal }) => {
    const leg = legFor(signal.interactionId);
    void (async () => {
      try {
        if (signal.type === 'offer') {
          await answer(leg, signal.payload, send, () => setMicDenied(true));
        } else if (signal.type === 'answer') {
          await leg.pc.setRemoteDescription({ type: 'answer', sdp: signal.payload });
        } else if (signal.type === 'candidate') {
          await leg.pc.addIceCandidate(JSON.parse(signal.payload) as RTCIceCandidateInit);
        }
      } catch (e) {
        setError(`The call's audio could not be set up: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
  });

  // A call that is over (or went to a queue or the hardphone) lets go of its connection and
  // the microphone.
  const liveId = call?.state === 'ACTIVE' ? call.id : null;
  const ringingId = call?.state === 'OFFERED' ? call.id : null;
  useEffect(() => {
    const open = legs.current;
    for (const [id, leg] of open) {
      if (id === liveId || id === ringingId) continue;
      closeLeg(leg);
      open.delete(id);
    }
  }, [liveId, ringingId]);

  useEffect(() => {
    const open = legs.current;
    return () => open.forEach(closeLeg);
  }, []);

  // The meters: what the caller sends (inbound audio level and packets) and the agent's own
  // microphone level, from the connection's statistics.
  useEffect(() => {
    if (!liveId) return;
    const timer = setInterval(() => {
      const leg = legs.current.get(liveId);
      if (!leg) return;
      void leg.pc.getStats().then((stats) => {
        let caller = 0;
        let you = 0;
        let packets = 0;
        stats.forEach((s: { type: string; kind?: string; audioLevel?: number; packetsReceived?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') {
            caller = s.audioLevel ?? 0;
            packets = s.packetsReceived ?? 0;
          }
          if (s.type === 'media-source' && s.kind === 'audio') you = s.audioLevel ?? 0;
        });
        setLevels({ caller, you, packets });
      });
    }, 250);
    return () => clearInterval(timer);
  }, [liveId]);

  if (!call) return null;
  const name = contactName(call.contact);
  const mine = toggles.callId === call.id;
  const muted = mine && toggles.muted;
  const held = mine && toggles.held;
  const keypad = mine && toggles.keypad;
  const setToggle = (change: Partial<typeof toggles>) =>
    setToggles({ callId: call.id, muted, held, keypad, ...change });

  async function run(input: { mute?: boolean; hold?: boolean; digits?: string }) {
    if (!call) return;
    setError(null);
    const result = await control({ input: { interactionId: call.id, ...input } });
    if (result.error) setError(result.error.graphQLErrors[0]?.message ?? 'The call did not take it.');
    return !result.error;
  }

  async function toggleMute() {
    const next = !muted;
    if (await run({ mute: next })) {
      setToggle({ muted: next });
      legs.current.get(call!.id)?.mic?.getAudioTracks().forEach((t) => (t.enabled = !next));
    }
  }

  async function toggleHold() {
    const next = !held;
    if (await run({ hold: next })) setToggle({ held: next });
  }

  async function onAnswer() {
    if (!call?.offer) return;
    setError(null);
    const result = await answerCall({ input: { offerId: call.offer.id } });
    const refused = result.data?.acceptOffer.userErrors[0]?.message;
    if (refused || result.error) setError(refused ?? 'The call could not be answered.');
    else onAnswered?.(call.id);
  }

  async function onEnd() {
    if (!call) return;
    const result = await endCall({ input: { interactionId: call.id } });
    const refused = result.data?.endInteraction.userErrors[0]?.message;
    if (refused || result.error) setError(refused ?? 'The call could not be ended.');
  }

  const ringing = call.state === 'OFFERED';
  return (
    <section className="softphone card" aria-label="Softphone" data-state={ringing ? 'ringing' : 'live'}>
      <div className="softphone__who">
        <span className="softphone__icon" aria-hidden="true">
          ☎
        </span>
        <strong>{name}</strong>
        {ringing ? (
          <span className="badge softphone__ringing" role="status">
            Ringing
          </span>
        ) : (
          call.acceptedAt && (
            <span className="softphone__timer" aria-label="Call time">
              {formatClock(secondsBetween(call.acceptedAt, now))}
            </span>
          )
        )}
        {held && <span className="badge">On hold</span>}
        {muted && <span className="badge">Muted</span>}
      </div>
      {ringing ? (
        <div className="softphone__controls">
          <button type="button" className="button button--primary" onClick={onAnswer} disabled={answering.fetching || !call.offer}>
            Answer
          </button>
        </div>
      ) : (
        <>
          <div className="softphone__meters">
            <label>
              Caller
              <meter
                className="softphone__meter"
                aria-label="Caller's audio level"
                min={0}
                max={1}
                value={levels.caller}
                data-packets={levels.packets}
              />
            </label>
            <label>
              You
              <meter className="softphone__meter" aria-label="Your microphone level" min={0} max={1} value={levels.you} />
            </label>
          </div>
          <div className="softphone__controls">
            <button type="button" className="button" aria-pressed={muted} onClick={toggleMute}>
              {muted ? 'Unmute' : 'Mute'}
            </button>
            <button type="button" className="button" aria-pressed={held} onClick={toggleHold}>
              {held ? 'Resume' : 'Hold'}
            </button>
            <button type="button" className="button" aria-expanded={keypad} onClick={() => setToggle({ keypad: !keypad })}>
              Keypad
            </button>
            <button type="button" className="button button--danger" onClick={onEnd} disabled={ending.fetching}>
              End call
            </button>
          </div>
          {keypad && (
            <div className="softphone__keypad" role="group" aria-label="Keypad">
              {KEYPAD.map((key) => (
                <button key={key} type="button" className="button" onClick={() => void run({ digits: key })}>
                  {key}
                </button>
              ))}
            </div>
          )}
        </>
      )}
      {micDenied && (
        <p className="softphone__error" role="alert">
          {MIC_DENIED}
        </p>
      )}
      {error && (
        <p className="softphone__error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
