import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** The browser's Notification, with the permission a test gives it. */
class FakeNotification {
  static permission: NotificationPermission = 'default';
  static answer: NotificationPermission = 'granted';
  static shown: { title: string; body?: string; tag?: string }[] = [];
  static requestPermission = vi.fn(async () => {
    FakeNotification.permission = FakeNotification.answer;
    return FakeNotification.answer;
  });
  onclick: (() => void) | null = null;
  constructor(title: string, options?: NotificationOptions) {
    FakeNotification.shown.push({ title, body: options?.body, tag: options?.tag });
  }
  close() {}
}

/** An audio output that starts suspended, as browsers make one before the page was used. */
class FakeAudioContext {
  static made: FakeAudioContext[] = [];
  state: AudioContextState = 'suspended';
  currentTime = 0;
  destination = {};
  started: number[] = [];
  resume = vi.fn(async () => {
    this.state = 'running';
  });
  constructor() {
    FakeAudioContext.made.push(this);
  }
  createOscillator() {
    const osc = {
      frequency: { value: 0 },
      connect: (node: unknown) => node,
      start: () => this.started.push(osc.frequency.value),
      stop: () => {},
    };
    return osc;
  }
  createGain() {
    const gain = {
      gain: { setValueAtTime: () => {}, exponentialRampToValueAtTime: () => {} },
      connect: (node: unknown) => node,
    };
    return gain;
  }
}

/** A fresh copy of the module: it keeps its audio output between calls. */
const load = async () => {
  vi.resetModules();
  return import('./alerts');
};

beforeEach(() => {
  FakeNotification.permission = 'default';
  FakeNotification.answer = 'granted';
  FakeNotification.shown = [];
  FakeNotification.requestPermission.mockClear();
  FakeAudioContext.made = [];
  vi.stubGlobal('Notification', FakeNotification);
  vi.stubGlobal('AudioContext', FakeAudioContext);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('offer alerts', () => {
  it('asks for permission only when pressed; then a new offer chimes, and notifies when the desk is not in front', async () => {
    const { AlertsToggle, alertNewOffer } = await load();
    render(<AlertsToggle />);
    alertNewOffer('New chat offer', 'Jane Doe: Hello');
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled();
    expect(FakeAudioContext.made).toHaveLength(0);

    await userEvent.click(screen.getByRole('button', { name: 'Enable alerts' }));
    const toggle = await screen.findByRole('button', { name: 'Offer alerts' });
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    // Pressing it primed the audio output, which the browser had suspended.
    expect(FakeAudioContext.made).toHaveLength(1);
    const output = FakeAudioContext.made[0]!;
    expect(output.resume).toHaveBeenCalled();

    // The desk in front: the chime only.
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    alertNewOffer('New chat offer', 'Jane Doe: Hello');
    expect(output.started).toEqual([660, 880]);
    expect(FakeNotification.shown).toEqual([]);

    // Another window has the focus: a desktop notification too.
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    alertNewOffer('New chat offer', 'Sam Lee: Where is my parcel?');
    expect(output.started).toEqual([660, 880, 660, 880]);
    expect(FakeNotification.shown).toEqual([
      { title: 'New chat offer', body: 'Sam Lee: Where is my parcel?', tag: 'agentdesk-offer' },
    ]);

    // Pressed again: off.
    await userEvent.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    alertNewOffer('New chat offer', 'Kim: Hi');
    expect(FakeNotification.shown).toHaveLength(1);
    expect(output.started).toHaveLength(4);
  });

  it('a suspended output is woken when an offer arrives (alerts switched on in an earlier visit)', async () => {
    FakeNotification.permission = 'granted';
    localStorage.setItem('agentdesk.alerts', 'on');
    const { alertNewOffer } = await load();
    alertNewOffer('New chat offer', 'Jane Doe');
    const output = FakeAudioContext.made[0]!;
    expect(output.resume).toHaveBeenCalledTimes(1);
    expect(output.started).toEqual([660, 880]);
  });

  it('notifications refused: "Alerts blocked", and offers neither chime nor notify', async () => {
    FakeNotification.answer = 'denied';
    const { AlertsToggle, alertNewOffer } = await load();
    render(<AlertsToggle />);
    await userEvent.click(screen.getByRole('button', { name: 'Enable alerts' }));
    expect(await screen.findByText('Alerts blocked')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /alerts/i })).toBeNull();
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    alertNewOffer('New chat offer', 'Jane Doe');
    expect(FakeNotification.shown).toEqual([]);
    expect(FakeAudioContext.made).toHaveLength(0);
  });

  it('the notification names the contact and starts what they wrote, on one line', async () => {
    const { offerAlertBody } = await load();
    expect(offerAlertBody('Jane Doe', null)).toBe('Jane Doe');
    expect(offerAlertBody('Jane Doe', '  Hello,\n  my order  ')).toBe('Jane Doe: Hello, my order');
    const long = offerAlertBody('Jane Doe', 'x'.repeat(300));
    expect(long).toBe(`Jane Doe: ${'x'.repeat(99)}…`);
  });
});
