import { useState, useSyncExternalStore } from 'react';

/**
 * Optional sound and desktop notification for new offers. Nothing is asked of the browser until
 * the agent presses "Enable alerts"; the choice is remembered per browser.
 */
const KEY = 'agentdesk.alerts';
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

/** A short two-tone chime, made on the spot so no sound file ships with the app. */
function chime() {
  try {
    audio ??= new AudioContext();
    const start = audio.currentTime;
    [660, 880].forEach((frequency, i) => {
      const osc = audio!.createOscillator();
      const gain = audio!.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.15, start + i * 0.15);
      gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.15 + 0.3);
      osc.connect(gain).connect(audio!.destination);
      osc.start(start + i * 0.15);
      osc.stop(start + i * 0.15 + 0.3);
    });
  } catch {
    // no audio output: the notification and the card still show
  }
}

/** Announces a new offer with a chime and, when the desk is not in view, a notification. */
export function alertNewOffer(title: string, body: string) {
  if (!alertsOn()) return;
  chime();
  if (document.visibilityState !== 'visible') {
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
      write(!on);
      return;
    }
    const answer = await Notification.requestPermission();
    setPermission(answer);
    if (answer === 'granted') write(true);
  }

  if (permission === 'granted') {
    return (
      <button type="button" className="button button--quiet" aria-pressed={on} onClick={toggle}>
        Alerts
      </button>
    );
  }
  return (
    <button type="button" className="button button--quiet" onClick={toggle}>
      Enable alerts
    </button>
  );
}
