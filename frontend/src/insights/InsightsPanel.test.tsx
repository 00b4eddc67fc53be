import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { interaction } from '../testing/fixtures';
import { InsightsPanel } from './InsightsPanel';

const GUID = '3f2b8c1e-8d7a-4c55-9a0e-6b1f2d3c4e5f';

describe('InsightsPanel', () => {
  it('H3: the Metadata tab shows the Interaction ID with a Copy button', async () => {
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue();
    render(<InsightsPanel interaction={interaction({ id: GUID })} />);

    await user.click(screen.getByRole('tab', { name: 'Metadata' }));
    expect(screen.getByRole('tabpanel', { name: 'Metadata' }).textContent).toContain(GUID);
    await user.click(screen.getByRole('button', { name: 'Copy Interaction ID' }));

    expect(writeText).toHaveBeenCalledWith(GUID);
    expect(screen.getByText('Copied')).toBeTruthy();
  });

  it('says how to copy by hand when the clipboard is refused', async () => {
    const user = userEvent.setup();
    vi.spyOn(navigator.clipboard, 'writeText').mockRejectedValue(new Error('NotAllowedError'));
    render(<InsightsPanel interaction={interaction({ id: GUID })} />);
    await user.click(screen.getByRole('tab', { name: 'Metadata' }));
    await user.click(screen.getByRole('button', { name: 'Copy Interaction ID' }));
    expect(screen.getByText('Copying is blocked here: select the ID and copy it.')).toBeTruthy();
  });

  it('tabs follow the ARIA pattern: arrow keys move and select', async () => {
    const user = userEvent.setup();
    render(<InsightsPanel interaction={interaction({ id: GUID })} />);
    const information = screen.getByRole('tab', { name: 'Information' });
    expect(information.getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tab', { name: 'Metadata' }).tabIndex).toBe(-1);
    expect(screen.getByRole('tabpanel').textContent).toContain('Jane Doe');

    await user.click(information);
    await user.keyboard('{ArrowRight}');
    const metadata = screen.getByRole('tab', { name: 'Metadata' });
    expect(document.activeElement).toBe(metadata);
    expect(metadata.getAttribute('aria-selected')).toBe('true');
    await user.keyboard('{Home}');
    expect(document.activeElement).toBe(information);
  });
});
