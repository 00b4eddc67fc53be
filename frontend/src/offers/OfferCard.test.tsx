import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { interaction, message } from '../testing/fixtures';
import { mockClient, operationName } from '../testing/mockClient';
import { OfferCard } from './OfferCard';

const NOW = Date.parse('2026-11-21T12:00:00Z');

function offered(autoAccepted = false) {
  return interaction({
    id: 'i-1',
    state: 'OFFERED',
    acceptedAt: null,
    offer: { id: 'o-1', expiresAt: '2026-11-21T12:00:30Z', autoAccepted },
    lastMessage: message({ id: 'm-1', interactionId: 'i-1', text: 'I need help with my order' }),
  });
}

const accepted = {
  data: {
    acceptOffer: {
      __typename: 'OfferPayload',
      interaction: { ...offered(), state: 'ACTIVE', offer: null },
      userErrors: [],
    },
  },
};

describe('OfferCard', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('P5: counts down to the expiry every second, turns urgent at 10 s and disables the answers at 0', () => {
    const { wrapper } = mockClient(() => null);
    render(<OfferCard interaction={offered()} onAccepted={() => {}} />, { wrapper });

    expect(screen.getByRole('timer').textContent).toBe('0:30');
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByRole('timer').textContent).toBe('0:29');
    act(() => vi.advanceTimersByTime(19_000));
    expect(screen.getByRole('timer').textContent).toBe('0:10');
    expect(screen.getByText(/Expires in/).getAttribute('data-urgent')).toBe('true');

    act(() => vi.advanceTimersByTime(10_000));
    expect(screen.getByText('Offer expired')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Accept' })).toHaveProperty('disabled', true);
    expect(screen.getByRole('button', { name: 'Reject' })).toHaveProperty('disabled', true);
  });

  it('P3: Accept sends acceptOffer with the offer ID and opens the interaction', async () => {
    const { wrapper, executeMutation } = mockClient(() => accepted);
    const onAccepted = vi.fn();
    render(<OfferCard interaction={offered()} onAccepted={onAccepted} />, { wrapper });

    await act(async () => screen.getByRole('button', { name: 'Accept' }).click());

    expect(executeMutation.mock.calls[0]![0].variables).toEqual({ input: { offerId: 'o-1' } });
    expect(onAccepted).toHaveBeenCalledWith('i-1');
  });

  it('P3: Reject sends rejectOffer; a refusal is shown on the card', async () => {
    const { wrapper, executeMutation } = mockClient(() => ({
      data: {
        rejectOffer: {
          __typename: 'OfferPayload',
          interaction: null,
          userErrors: [{ __typename: 'UserError', code: 'WRONG_STATE', message: 'The offer has expired.' }],
        },
      },
    }));
    render(<OfferCard interaction={offered()} onAccepted={() => {}} />, { wrapper });

    await act(async () => screen.getByRole('button', { name: 'Reject' }).click());

    expect(executeMutation.mock.calls[0]![0].variables).toEqual({ input: { offerId: 'o-1' } });
    expect(screen.getByRole('alert').textContent).toBe('The offer has expired.');
  });

  it('P4: an auto-accepted offer has no Reject button and no countdown', () => {
    const { wrapper } = mockClient(() => null);
    render(<OfferCard interaction={offered(true)} onAccepted={() => {}} />, { wrapper });

    expect(screen.queryByRole('button', { name: 'Reject' })).toBeNull();
    expect(screen.queryByRole('timer')).toBeNull();
    expect(screen.getByText('Accepted automatically')).toBeTruthy();
  });

  it('shows the channel, the contact and what they wrote', () => {
    const { wrapper } = mockClient(() => null);
    render(<OfferCard interaction={offered()} onAccepted={() => {}} />, { wrapper });
    const card = screen.getByRole('article', { name: 'Jane Doe' });
    expect(card.textContent).toContain('Chat');
    expect(card.textContent).toContain('Offered');
    expect(card.textContent).toContain('I need help with my order');
  });

  it('T1: a transfer offer is labelled as one, with who transfers it, Accept, Reject and its countdown', async () => {
    const transfer = interaction({
      id: 'i-8',
      // Still ACTIVE with the sender until the transfer is answered.
      state: 'ACTIVE',
      contact: { address: 'visitor-8', name: 'Pat Moved' },
      offer: {
        id: 'i-8.2',
        expiresAt: '2026-11-21T12:00:30Z',
        autoAccepted: false,
        transferredBy: { id: 'agent-alice', name: 'Alice Martin' },
      },
    });
    const { wrapper, executeMutation } = mockClient((request) =>
      operationName(request) === 'AcceptOffer'
        ? { data: { acceptOffer: { __typename: 'OfferPayload', interaction: { ...transfer, offer: null }, userErrors: [] } } }
        : null,
    );
    const onAccepted = vi.fn();
    render(<OfferCard interaction={transfer} onAccepted={onAccepted} />, { wrapper });

    const card = screen.getByRole('article', { name: 'Pat Moved' });
    expect(card.getAttribute('aria-describedby')).toBeTruthy();
    expect(document.getElementById(card.getAttribute('aria-describedby')!)!.textContent).toBe('Transfer from Alice Martin');
    expect(card.textContent).toContain('Transfer');
    expect(card.textContent).not.toContain('Offered');
    expect(screen.getByRole('timer').textContent).toBe('0:30');
    expect(screen.getByRole('button', { name: 'Reject' })).toBeTruthy();

    await act(async () => screen.getByRole('button', { name: 'Accept' }).click());
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({ input: { offerId: 'i-8.2' } });
    expect(onAccepted).toHaveBeenCalledWith('i-8');
  });

  it('a routed offer says "Offered" and names no sender', () => {
    const { wrapper } = mockClient(() => null);
    render(<OfferCard interaction={offered()} onAccepted={() => {}} />, { wrapper });
    const card = screen.getByRole('article', { name: 'Jane Doe' });
    expect(card.textContent).not.toContain('Transfer from');
    expect(card.hasAttribute('aria-describedby')).toBe(false);
  });
});
