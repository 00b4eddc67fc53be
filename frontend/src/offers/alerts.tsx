import { useState, useSyncExternalStore } from 'react';

/**
 * Optional sound and desktop notification for new offers. Nothing is asked of the browser until
 * the agent presses "Enable alerts"; the choice is remembered per browser.
 */
const KEY = 'agentdesk.alerts';
/** Characters of the contact's message a notification shows. */
const PREVIEW_LENGTH = 100;
const listeners = new Set<() => void>();

function read(): boolean {
  try {
    return localStorage.getItem(KEY) === 'on';
  } catch {
    return false;
  }
}

function write(on: boolean) {
  try {
    if (on) localStorage.setItem(KEY, 'on');
    else localStorage.removeItem(KEY);
  } catch {
    // storage unavailable: the choice lasts for this page only
  }
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const supported = () => typeof window !== 'undefined' && 'Notification' in window;

function alertsOn(): boolean {
  return supported() && Notification.permission === 'granted' && read();
}

let audio: AudioContext | null = null;

/**
 * The audio output, created on first use and woken if the browser suspended it: browsers start
 * audio only after the person has used the page, so a context made when an offer arrives may
 * start suspended. Pressing the toggle (a user gesture) primes it.
 */
function audioOutput(): AudioContext | null {
  if (typeof AudioContext === 'undefined') return null;
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
    return audio;
  } catch {
    return null;
  }
}

/** A short two-tone chime, made on the spot so no sound file ships with the app. */
function chime() {
  const output = audioOutput();
  if (!output) return; // no audio output: the notification and the card still show
  const start = output.currentTime;
  [660, 880].forEach((frequency, i) => {
    const osc = output.createOscillator();
    const gain = output.createGain();
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.15, start + i * 0.15);
    gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.15 + 0.3);
    osc.connect(gain).connect(output.destination);
    osc.start(start + i * 0.15);
    osc.stop(start + i * 0.15 + 0.3);
  });
}

/** The notification's text: who, and the start of what they wrote. */
export function offerAlertBody(name: string, preview: string | null | undefined): string {
  const text = preview?.replace(/\s+/g, ' ').trim();
  if (!text) return name;
  return `${name}: ${text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH - 1)}…` : text}`;
}

/**
 * Announces a new offer with a chime and, when the agent is not looking at the desk (another
 * tab or another window has the focus), a desktop notification.
 */
export function alertNewOffer(title: string, body: string) {
  if (!alertsOn()) return;
  chime();
  if (document.visibilityState === 'visible' && document.hasFocus()) return;
  try {
    const notification = new Notification(title, { body, tag: 'agentdesk-offer' });
    notification.onclick = () => {
      window.focus();
      notification.close();
    };
  } catch {
    // some browsers only allow notifications from a service worker
  }
}

/** The header control: asks for permission only when pressed, then toggles alerts. */
export function AlertsToggle() {
  const on = useSyncExternalStore(subscribe, read);
  const [permission, setPermission] = useState(() =>
    supported() ? Notification.permission : 'denied',
  );
  if (!supported()) return null;

  if (permission === 'denied') {
    return (
      <span className="muted alerts-note" title="Allow notifications for this site in the browser settings">
        Alerts blocked
      </span>
    );
  }

  async function toggle() {
    if (permission === 'granted') {
      if (!on) audioOutput();
      write(!on);
      return;
    }
    const answer = await Notification.requestPermission();
    setPermission(answer);
    if (answer === 'granted') {
      audioOutput();
      write(true);
    }
  }

  if (permission === 'granted') {
    return (
      <button
        type="button"
        className="button button--quiet"
        aria-pressed={on}
        title="A chime, and a desktop notification when the desk is not in front, for each new offer"
        onClick={toggle}
      >
        Offer alerts
      </button>
    );
  }
  return (
    <button type="button" className="button button--quiet" onClick={toggle}>
      Enable alerts
    </button>
  );
}
