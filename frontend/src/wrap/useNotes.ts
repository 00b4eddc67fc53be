import { useCallback, useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';

const SetNotesMutation = graphql(`
  mutation SetNotes($input: SetNotesInput!) {
    setNotes(input: $input) {
      interaction {
        id
        notes
      }
      userErrors {
        code
        message
      }
    }
  }
`);

/** Quiet time after the last keystroke before notes are saved. */
export const NOTES_SAVE_DELAY_MS = 800;

export type NotesStatus = 'idle' | 'saved' | 'editing' | 'saving' | 'failed';

export interface Notes {
  draft: string;
  setDraft(value: string): void;
  status: NotesStatus;
  error: string | null;
  /** Saves now if anything is unsaved; resolves false when the save failed. */
  flush(): Promise<boolean>;
}

/**
 * The agent's notes on an interaction (H2, W3): what is typed is saved after a short pause, on
 * leaving the field, before completing, and when the interaction is closed in the desk. The
 * server's notes show whenever nothing unsaved is being typed.
 */
export function useNotes(interactionId: string, serverNotes: string): Notes {
  const [draft, setDraftState] = useState(serverNotes);
  const [status, setStatus] = useState<NotesStatus>('idle');
  const [error, setError] = useState<string | null>(null);
  const [shownServerNotes, setShownServerNotes] = useState(serverNotes);
  const [, save] = useMutation(SetNotesMutation);
  const unsaved = useRef<string | null>(null);

  if (serverNotes !== shownServerNotes) {
    setShownServerNotes(serverNotes);
    if (status === 'idle' || status === 'saved') setDraftState(serverNotes);
  }

  // The save under way, if any: a flush waits for it, so a step that needs the notes saved
  // (Insert Summary, completing) never runs beside a save that would then overwrite its result.
  const inflight = useRef<Promise<boolean> | null>(null);

  const saveNow = useCallback(
    async (text: string) => {
      setStatus('saving');
      const result = await save({ input: { interactionId, notes: text } });
      const userError = result.data?.setNotes.userErrors[0];
      const failure =
        userError?.message ?? (result.error ? 'Notes could not be saved. Check the connection.' : null);
      if (unsaved.current !== null) {
        // typed more while saving: the next save follows
        setStatus('editing');
      } else if (failure) {
        unsaved.current = text;
        setStatus('failed');
      } else {
        setStatus('saved');
      }
      setError(failure);
      return failure === null;
    },
    [interactionId, save],
  );

  const flush = useCallback(async (): Promise<boolean> => {
    while (inflight.current) {
      if (!(await inflight.current)) return false;
    }
    const text = unsaved.current;
    if (text === null) return true;
    unsaved.current = null;
    const saving = saveNow(text);
    inflight.current = saving;
    try {
      return await saving;
    } finally {
      if (inflight.current === saving) inflight.current = null;
    }
  }, [saveNow]);

  const setDraft = useCallback((value: string) => {
    unsaved.current = value;
    setDraftState(value);
    setStatus('editing');
  }, []);

  useEffect(() => {
    if (status !== 'editing') return;
    const timer = setTimeout(() => void flush(), NOTES_SAVE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [draft, status, flush]);

  // Leaving the interaction saves what is left.
  useEffect(() => () => void flush(), [flush]);

  return { draft, setDraft, status, error, flush };
}
