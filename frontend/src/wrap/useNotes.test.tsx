import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { CombinedError, Provider, type Client, type OperationResult } from 'urql';
import { describe, expect, it, vi } from 'vitest';
import { fromPromise } from 'wonka';
import { useNotes } from './useNotes';

describe('useNotes', () => {
  it('a flush waits for the save under way, so nothing that needs the notes saved runs beside it', async () => {
    // A save that the test answers when it wants: the mutation's result stays open until then.
    const pending: Array<(ok: boolean) => void> = [];
    const executeMutation = vi.fn(() =>
      fromPromise(
        new Promise<Partial<OperationResult>>((resolve) => {
          pending.push((ok) =>
            resolve(
              ok
                ? { data: { setNotes: { userErrors: [] } } }
                : { error: new CombinedError({ networkError: new Error('down') }) },
            ),
          );
        }),
      ),
    );
    const client = { executeMutation } as unknown as Client;
    const wrapper = ({ children }: { children: ReactNode }) => <Provider value={client}>{children}</Provider>;
    const { result } = renderHook(() => useNotes('ix-1', ''), { wrapper });
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
    expect(executeMutation).toHaveBeenCalledTimes(1);
    expect(second).toBe(false); // still waiting for the first save
    await act(async () => {
      pending.shift()?.(true);
      await first;
      await flushed;
    });
    expect(second).toBe(true);
    expect(executeMutation).toHaveBeenCalledTimes(1); // nothing more to save
  });
});
