import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { message } from '../testing/fixtures';
import { mockClient } from '../testing/mockClient';
import { Composer, MAX_MESSAGE_LENGTH } from './Composer';

const sent = (text: string) => ({
  data: {
    sendMessage: {
      __typename: 'SendMessagePayload',
      message: message({ id: 'm-9', interactionId: 'i-1', from: 'AGENT', text }),
      userErrors: [],
    },
  },
});

describe('Composer', () => {
  it('H1: Enter sends the reply and empties the box', async () => {
    const { wrapper, executeMutation } = mockClient((request) =>
      sent((request.variables as { input: { text: string } }).input.text),
    );
    const onSent = vi.fn();
    render(<Composer interactionId="i-1" state="ACTIVE" onSent={onSent} />, { wrapper });
    const box = screen.getByRole('textbox', { name: 'Reply' });

    await userEvent.type(box, 'Happy to help!{Enter}');

    expect(executeMutation).toHaveBeenCalledTimes(1);
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { interactionId: 'i-1', text: 'Happy to help!' },
    });
    expect(box).toHaveProperty('value', '');
    expect(onSent).toHaveBeenCalled();
  });

  it('H1: Shift+Enter adds a line instead of sending', async () => {
    const { wrapper, executeMutation } = mockClient((request) =>
      sent((request.variables as { input: { text: string } }).input.text),
    );
    render(<Composer interactionId="i-1" state="ACTIVE" />, { wrapper });
    const box = screen.getByRole('textbox', { name: 'Reply' });

    await userEvent.type(box, 'Line one{Shift>}{Enter}{/Shift}Line two');
    expect(executeMutation).not.toHaveBeenCalled();
    expect(box).toHaveProperty('value', 'Line one\nLine two');

    await userEvent.type(box, '{Enter}');
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { interactionId: 'i-1', text: 'Line one\nLine two' },
    });
  });

  it('does not send an empty reply', async () => {
    const { wrapper, executeMutation } = mockClient(() => null);
    render(<Composer interactionId="i-4" state="ACTIVE" />, { wrapper });
    await userEvent.type(screen.getByRole('textbox', { name: 'Reply' }), '   {Enter}');
    expect(executeMutation).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', true);
  });

  it('is disabled unless the interaction is ACTIVE, and says why', () => {
    const { wrapper } = mockClient(() => null);
    render(<Composer interactionId="i-1" state="WRAP" />, { wrapper });
    const box = screen.getByRole('textbox', { name: 'Reply' });
    expect(box).toHaveProperty('disabled', true);
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', true);
    expect(document.getElementById(box.getAttribute('aria-describedby')!)!.textContent).toBe(
      'This conversation has ended: replies are closed.',
    );
  });

  it('keeps the text and shows the reason when the server refuses it', async () => {
    const { wrapper } = mockClient(() => ({
      data: {
        sendMessage: {
          __typename: 'SendMessagePayload',
          message: null,
          userErrors: [
            { __typename: 'UserError', code: 'WRONG_STATE', message: 'The chat has ended.' },
          ],
        },
      },
    }));
    render(<Composer interactionId="i-5" state="ACTIVE" />, { wrapper });
    const box = screen.getByRole('textbox', { name: 'Reply' });
    await userEvent.type(box, 'Still there?{Enter}');
    expect(screen.getByRole('alert').textContent).toBe('The chat has ended.');
    expect(box).toHaveProperty('value', 'Still there?');
  });

  it('refuses text over the limit before sending it', async () => {
    const { wrapper, executeMutation } = mockClient(() => null);
    render(<Composer interactionId="i-2" state="ACTIVE" />, { wrapper });
    const box = screen.getByRole('textbox', { name: 'Reply' });
    await userEvent.click(box);
    await userEvent.paste('x'.repeat(MAX_MESSAGE_LENGTH + 1));
    await userEvent.keyboard('{Enter}');
    expect(executeMutation).not.toHaveBeenCalled();
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText(`Too long: ${MAX_MESSAGE_LENGTH + 1} of ${MAX_MESSAGE_LENGTH} characters.`)).toBeTruthy();
  });

  it('keeps an unsent draft per interaction when the agent switches away and back', async () => {
    const { wrapper } = mockClient(() => null);
    const { unmount } = render(<Composer interactionId="i-3" state="ACTIVE" />, { wrapper });
    await userEvent.type(screen.getByRole('textbox', { name: 'Reply' }), 'Half a thought');
    unmount();
    render(<Composer interactionId="i-3" state="ACTIVE" />, { wrapper });
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveProperty('value', 'Half a thought');
  });

  it('K1: is closed while parked, and says until when', () => {
    const { wrapper } = mockClient(() => null);
    render(<Composer interactionId="i-6" state="PARKED" />, { wrapper });
    const box = screen.getByRole('textbox', { name: 'Reply' });
    expect(box).toHaveProperty('disabled', true);
    expect(document.getElementById(box.getAttribute('aria-describedby')!)!.textContent).toBe(
      'Parked: replies open again when the contact writes back.',
    );
  });

  it('T5: a reason (an accepted transfer) closes it even though the interaction is still ACTIVE', async () => {
    const { wrapper, executeMutation } = mockClient(() => null);
    render(<Composer interactionId="i-7" state="ACTIVE" closedReason="Transferred to Bob Okafor: replies are closed." />, {
      wrapper,
    });
    const box = screen.getByRole('textbox', { name: 'Reply' });
    expect(box).toHaveProperty('disabled', true);
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', true);
    expect(document.getElementById(box.getAttribute('aria-describedby')!)!.textContent).toBe(
      'Transferred to Bob Okafor: replies are closed.',
    );
    await userEvent.type(box, 'Still there?{Enter}');
    expect(executeMutation).not.toHaveBeenCalled();
  });
});
