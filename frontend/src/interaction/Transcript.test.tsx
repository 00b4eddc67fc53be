import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { message } from '../testing/fixtures';
import { TRANSCRIPT_ROW_HEIGHT } from '../testing/layout';
import { Transcript } from './Transcript';

const alice = { __typename: 'Agent', id: 'A1', name: 'Alice Martin' } as never;

function transcriptOf(count: number) {
  return Array.from({ length: count }, (_, i) =>
    message({
      id: `m-${i}`,
      interactionId: 'i-1',
      from: i === 0 ? 'SYSTEM' : i % 2 ? 'AGENT' : 'CONTACT',
      text: `Message ${i}`,
      agent: i % 2 ? alice : null,
    }),
  );
}

describe('Transcript', () => {
  it('keeps only a window of a 5,000-message transcript in the DOM, and moves it on scroll', async () => {
    render(<Transcript messages={transcriptOf(5000)} contactName="Jane Doe" loading={false} />);
    const region = screen.getByRole('region', { name: 'Transcript with Jane Doe' });

    // It opens at the newest message (a browser reports that programmatic scroll with an event).
    await vi.waitFor(() => expect(region.scrollTop).toBeGreaterThan(0));
    act(() => {
      fireEvent.scroll(region);
    });
    expect(await within(region).findByText('Message 4999')).toBeTruthy();
    const shown = () =>
      within(region)
        .getAllByRole('article')
        .map((a) => Number(a.getAttribute('aria-posinset')));
    expect(shown().length).toBeGreaterThan(5);
    expect(shown().length).toBeLessThan(60);
    expect(within(region).getAllByRole('article')[0]!.getAttribute('aria-setsize')).toBe('5000');

    act(() => {
      region.scrollTop = 2500 * TRANSCRIPT_ROW_HEIGHT;
      fireEvent.scroll(region);
    });

    await vi.waitFor(() => expect(Math.min(...shown())).toBeGreaterThan(2000));
    expect(Math.max(...shown())).toBeLessThan(2700);
    expect(shown().length).toBeLessThan(60);
  });

  it('tells agent, contact and system messages apart', async () => {
    render(<Transcript messages={transcriptOf(3)} contactName="Jane Doe" loading={false} />);
    const [system, agent, contact] = await screen.findAllByRole('article');
    expect(system!.dataset.from).toBe('SYSTEM');
    expect(system!.className).toContain('msg--system');
    expect(agent!.getAttribute('aria-label')).toMatch(/^Alice Martin, /);
    expect(agent!.className).toContain('msg--agent');
    expect(contact!.getAttribute('aria-label')).toMatch(/^Jane Doe, /);
    expect(contact!.className).toContain('msg--contact');
  });

  it('says when it is still loading older pages', () => {
    render(<Transcript messages={transcriptOf(100)} contactName="Jane Doe" loading />);
    expect(screen.getByRole('status').textContent).toBe('Loading messages… (100 so far)');
    expect(screen.getByRole('region').getAttribute('aria-busy')).toBe('true');
  });
});
