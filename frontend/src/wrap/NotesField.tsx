import { useId } from 'react';
import type { Notes, NotesStatus } from './useNotes';

const statusText: Record<NotesStatus, string> = {
  idle: '',
  saved: 'Saved',
  editing: 'Editing…',
  saving: 'Saving…',
  failed: 'Not saved',
};

/** The notes textarea with its save state; saving itself is useNotes' job. */
export function NotesField({ notes, disabled }: { notes: Notes; disabled?: boolean }) {
  const id = useId();
  const statusId = useId();
  return (
    <div className="field notes-field">
      <div className="field__head">
        <label htmlFor={id}>Notes</label>
        <span id={statusId} className="notes-field__status muted" role="status" data-status={notes.status}>
          {notes.status === 'failed' && notes.error ? `Not saved: ${notes.error}` : statusText[notes.status]}
        </span>
      </div>
      <textarea
        id={id}
        rows={4}
        value={notes.draft}
        disabled={disabled}
        aria-describedby={statusId}
        onChange={(event) => notes.setDraft(event.target.value)}
        onBlur={() => void notes.flush()}
      />
    </div>
  );
}
