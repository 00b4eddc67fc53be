import { act, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

// A save that the test answers when it wants: the mutation's promise stays open until then.
const pending: Array<(ok: boolean) => void> = [];
const save = vi.fn(
  () =>
    new Promise((resolve) => {
      pending.push((ok) => resolve(ok ? { data: { setNotes: { userErrors: [] } } } : { error: new Error('down') }));
    }),
);
vi.mock('urql', () => ({ useMutation: () => [{ fetching: false }, save] }));

const { useNotes } = await import('./useNotes');

describe('useNotes', () => {
  it('a flush waits for the save under way, so nothing that needs the notes saved runs beside it', async () => {
    const { result } = renderHook(() => useNotes('ix-1', ''));
    act(() => result.current.setDraft('Customer sounded worried.'));
    let first!: Promise<boolean>;
    act(() => {
      first = result.current.flush(); // the pause-after-typing save, say
    });
    let second = false;
    const flushed = result.current.flush().then((ok) => (second = ok));
    await act(async () => {
      await Promise.resolve();
    });
    expect(save).toHaveBeenCalledTimes(1);
    expect(second).toBe(false); // still waiting for the first save
    await act(async () => {
      pending.shift()?.(true);
      await first;
      await flushed;
    });
    expect(second).toBe(true);
    expect(save).toHaveBeenCalledTimes(1); // nothing more to save
  });
});
