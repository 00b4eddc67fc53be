import { createContext, useContext, useId, useRef, useState, type ReactNode } from 'react';
import {
  FieldError,
  Input,
  Label,
  Text,
  TextArea,
  TextField,
} from 'react-aria-components';
import { Modal } from '../modal/Modal';

/**
 * A labelled text field (react-aria-components' TextField): its description and its error are
 * tied to the input (aria-describedby), and an error marks it invalid (aria-invalid).
 */
export function TextInput({
  label,
  value,
  onChange,
  onBlur,
  error,
  description,
  type = 'text',
  inputMode,
  autoComplete = 'off',
  isRequired,
  multiline,
  className = 'field',
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  onBlur?: () => void;
  error?: string | null;
  description?: ReactNode;
  type?: 'text' | 'password' | 'search';
  inputMode?: 'numeric' | 'text';
  autoComplete?: string;
  isRequired?: boolean;
  multiline?: boolean;
  className?: string;
}) {
  return (
    <TextField
      className={className}
      value={value}
      onChange={onChange}
      onBlur={onBlur}
      type={type}
      inputMode={inputMode}
      autoComplete={autoComplete}
      isRequired={isRequired}
      isInvalid={Boolean(error)}
      validationBehavior="aria"
    >
      <Label>{label}</Label>
      {multiline ? <TextArea rows={4} /> : <Input />}
      {description && (
        <Text slot="description" className="field__note muted">
          {description}
        </Text>
      )}
      <FieldError className="field-error">{error}</FieldError>
    </TextField>
  );
}

const GroupContext = createContext<{ value: string[]; toggle: (value: string, on: boolean) => void } | null>(null);

/**
 * A labelled native checkbox (in a CheckGroup, `value` says what it stands for). Native, not
 * react-aria's: its visually hidden input under a drawn box gains nothing here, and the real
 * input stays what is clicked, focused and read.
 */
export function CheckField({
  children,
  isSelected,
  onChange,
  value,
  description,
}: {
  children: ReactNode;
  isSelected?: boolean;
  onChange?: (selected: boolean) => void;
  value?: string;
  description?: string;
}) {
  const group = useContext(GroupContext);
  const noteId = useId();
  const checked = group && value !== undefined ? group.value.includes(value) : Boolean(isSelected);
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={checked}
        value={value}
        aria-describedby={description ? noteId : undefined}
        onChange={(event) => {
          if (group && value !== undefined) group.toggle(value, event.target.checked);
          else onChange?.(event.target.checked);
        }}
      />
      <span className="check__label">
        {children}
        {description && (
          <span id={noteId} className="check__note muted">
            {description}
          </span>
        )}
      </span>
    </label>
  );
}

/** A labelled group of checkboxes: a fieldset whose legend names it, its note and error tied to it. */
export function CheckGroup({
  label,
  value,
  onChange,
  error,
  description,
  children,
}: {
  label: string;
  value: string[];
  onChange: (value: string[]) => void;
  error?: string | null;
  description?: string;
  children: ReactNode;
}) {
  const noteId = useId();
  const errorId = useId();
  const describedBy = [description ? noteId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <fieldset className="field check-group" aria-describedby={describedBy} aria-invalid={error ? true : undefined}>
      <legend className="check-group__label">{label}</legend>
      {description && (
        <p id={noteId} className="field__note muted">
          {description}
        </p>
      )}
      <GroupContext.Provider
        value={{ value, toggle: (v, on) => onChange(on ? [...value.filter((x) => x !== v), v] : value.filter((x) => x !== v)) }}
      >
        <div className="check-group__options">{children}</div>
      </GroupContext.Provider>
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** Which fields the supervisor has touched, so a problem shows once there is something to say. */
export function useTouched() {
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  return {
    /** Whether a problem of this field shows: it was changed or left, or a save was tried. */
    shows: (key: string) => submitted || touched.has(key),
    touch: (key: string) =>
      setTouched((current) => (current.has(key) ? current : new Set(current).add(key))),
    submit: () => setSubmitted(true),
    reset: () => {
      setTouched(new Set());
      setSubmitted(false);
    },
  };
}

/**
 * A confirmation (an alertdialog on react-aria-components' Modal): what will happen, Cancel
 * (focused first, and Escape) and the action. A refusal shows inside it.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  return (
    <Modal className="confirm-dialog" role="alertdialog" title={title} onClose={onCancel} initialFocus={cancelRef}>
      <div className="confirm-dialog__body">{children}</div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <footer className="modal__footer">
        <button ref={cancelRef} type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button button--danger-solid" aria-disabled={busy} onClick={() => !busy && onConfirm()}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </footer>
    </Modal>
  );
}

/** A polite status line, e.g. "Saved." after a save. */
export function Status({ children }: { children: ReactNode }) {
  return (
    <p className="admin-status" role="status">
      {children}
    </p>
  );
}

export const channelNames: Record<string, string> = {
  WEBCHAT: 'Webchat',
  SMS: 'SMS',
  RCS: 'RCS',
  WHATSAPP: 'WhatsApp',
  EMAIL: 'Email',
  VOICE: 'Voice',
};

/** An instant as the supervisor's locale writes it; '—' for none. */
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
