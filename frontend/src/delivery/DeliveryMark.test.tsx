import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { DeliveryErrorKind, DeliveryStatus } from '../gql/graphql';
import { Transcript } from '../interaction/Transcript';
import { message } from '../testing/fixtures';
import { mockClient } from '../testing/mockClient';
import { DeliveryFailure, DeliveryMark } from './DeliveryMark';
import { failureText, recoveryFor } from './delivery';

const alice = { __typename: 'Agent', id: 'A1', name: 'Alice Martin' } as never;

describe('delivery marks', () => {
  it.each<[DeliveryStatus, string, string]>([
    ['PENDING', '🕓', 'Sending'],
    ['SENT', '✓', 'Sent'],
    ['DELIVERED', '✓✓', 'Delivered'],
    ['READ', '✓✓', 'Read'],
    ['FAILED', '⚠', 'Not delivered'],
  ])('%s shows %s and says "%s"', (status, glyph, label) => {
    render(<DeliveryMark status={status} />);
    const mark = screen.getByTitle(label);
    expect(mark.dataset.delivery).toBe(status);
    expect(mark.querySelector('[aria-hidden=true]')!.textContent).toBe(glyph);
    expect(within(mark).getByText(label).className).toBe('visually-hidden');
  });

  it('are on the agent\'s own messages only, in the transcript', async () => {
    render(
      <Transcript
        contactName="+447700900123"
        loading={false}
        messages={[
          message({ id: 'm-1', interactionId: 'i-1', from: 'CONTACT', text: 'Hi' }),
          message({ id: 'm-2', interactionId: 'i-1', from: 'AGENT', agent: alice, text: 'Hello', delivery: 'DELIVERED' }),
          message({ id: 'm-3', interactionId: 'i-1', from: 'AGENT', agent: alice, text: 'On webchat', delivery: null }),
        ]}
      />,
    );
    const [contact, delivered, webchat] = await screen.findAllByRole('article');
    expect(contact!.querySelector('.delivery-mark')).toBeNull();
    expect(within(delivered!).getByTitle('Delivered')).toBeTruthy();
    expect(webchat!.querySelector('.delivery-mark')).toBeNull();
  });
});

describe('E5: what a failed message offers, by the kind of failure', () => {
  it.each<[DeliveryErrorKind, 'retry' | 'edit']>([
    ['TEMPORARY', 'retry'],
    ['CONTENT', 'edit'],
    ['SECURITY', 'edit'],
  ])('%s → %s', (kind, recovery) => {
    expect(recoveryFor(kind)).toBe(recovery);
  });

  it('says why, with the provider\'s code when there is one', () => {
    expect(failureText({ kind: 'CONTENT', message: 'Outside the 24-hour window.', providerCode: '131047' })).toBe(
      'Not delivered: Outside the 24-hour window (code 131047). Change the message and send it again.',
    );
    expect(failureText({ kind: 'TEMPORARY', message: 'The provider timed out', providerCode: null })).toBe(
      'Not delivered: The provider timed out. A temporary problem: send it again.',
    );
  });

  it('TEMPORARY: Retry sends the same message again with retryMessage', async () => {
    const failed = message({
      id: 'm-7',
      interactionId: 'i-1',
      from: 'AGENT',
      text: 'Your parcel is on its way',
      delivery: 'FAILED',
      deliveryError: { kind: 'TEMPORARY', message: 'The provider timed out', providerCode: null },
    });
    const { wrapper, executeMutation } = mockClient(() => ({
      data: {
        retryMessage: {
          __typename: 'SendMessagePayload',
          message: { ...failed, delivery: 'PENDING', deliveryError: null },
          userErrors: [],
        },
      },
    }));
    const onEdit = vi.fn();
    render(<DeliveryFailure message={failed} canRecover onEdit={onEdit} />, { wrapper });

    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    const retry = screen.getByRole('button', { name: 'Retry' });
    expect(retry.getAttribute('aria-describedby')).toBe(screen.getByText(/^Not delivered: The provider timed out/).id);
    await userEvent.click(retry);
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({ input: { messageId: 'm-7' } });
    expect(onEdit).not.toHaveBeenCalled();
  });

  it('TEMPORARY: a refused retry says why', async () => {
    const { wrapper } = mockClient(() => ({
      data: {
        retryMessage: {
          __typename: 'SendMessagePayload',
          message: null,
          userErrors: [{ __typename: 'UserError', code: 'OUTSIDE_WINDOW', message: 'The customer has not written in 24 hours.' }],
        },
      },
    }));
    render(
      <DeliveryFailure
        canRecover
        message={{ id: 'm-8', text: 'Hello', deliveryError: { kind: 'TEMPORARY', message: 'Timeout', providerCode: null } }}
      />,
      { wrapper },
    );
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The customer has not written in 24 hours.');
  });

  it.each<DeliveryErrorKind>(['CONTENT', 'SECURITY'])('%s: Edit gives the text back to change it, and nothing is sent', async (kind) => {
    const { wrapper, executeMutation } = mockClient(() => null);
    const onEdit = vi.fn();
    render(
      <DeliveryFailure
        canRecover
        onEdit={onEdit}
        message={{ id: 'm-9', text: 'Call 0800 FREE', deliveryError: { kind, message: 'Refused by the carrier', providerCode: '30007' } }}
      />,
      { wrapper },
    );
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Edit' }));
    expect(onEdit).toHaveBeenCalledWith('Call 0800 FREE');
    expect(executeMutation).not.toHaveBeenCalled();
  });

  it('offers neither once the agent can no longer write in the conversation', () => {
    const { wrapper } = mockClient(() => null);
    render(
      <DeliveryFailure
        canRecover={false}
        onEdit={vi.fn()}
        message={{ id: 'm-9', text: 'Hi', deliveryError: { kind: 'CONTENT', message: 'Bad number', providerCode: null } }}
      />,
      { wrapper },
    );
    expect(screen.getByText('Not delivered: Bad number. Change the message and send it again.')).toBeTruthy();
    expect(screen.queryByRole('button')).toBeNull();
  });
});
