import { useEffect, useRef, useState, type FormEvent, type RefObject } from 'react';
import {
  Button,
  Dialog,
  DialogTrigger,
  FieldError,
  Form,
  Heading,
  Input,
  Label,
  Modal,
  ModalOverlay,
  Text,
  TextField,
} from 'react-aria-components';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import {
  confirmationProblem,
  MIN_PASSWORD_LENGTH,
  newPasswordProblem,
  passwordFieldOf,
  type PasswordField,
} from './password';
import './account.css';

const ChangePasswordMutation = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) {
      agent {
        id
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

/** The shell's "Change password" button and its dialog. */
export function ChangePasswordButton() {
  return (
    <DialogTrigger>
      <Button className="button button--quiet">Change password</Button>
      <ModalOverlay className="modal-backdrop" isDismissable>
        <Modal className="modal change-password">
          <Dialog className="change-password__dialog" aria-labelledby="change-password-title">
            {({ close }) => <ChangePasswordForm onClose={close} />}
          </Dialog>
        </Modal>
      </ModalOverlay>
    </DialogTrigger>
  );
}

/**
 * Current password, new password and its confirmation. The new password is checked as it is
 * typed (at least 8 characters) and so is the confirmation; the server's refusals (e.g. a wrong
 * current password) show on the field their path names, until that field is changed. Once
 * changed, it says that every other session was signed out; this one stays signed in.
 */
export function ChangePasswordForm({ onClose }: { onClose: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [serverErrors, setServerErrors] = useState<Partial<Record<PasswordField, string>>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  // "Required" shows once the agent tried to submit, not while the form is still empty.
  const [touched, setTouched] = useState(false);
  const [{ fetching }, changePassword] = useMutation(ChangePasswordMutation);
  const currentRef = useRef<HTMLInputElement>(null);
  const nextRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);

  // The first field takes the focus once the dialog has placed it (RAC focuses the dialog
  // itself when nothing inside it is focused as it opens).
  useEffect(() => {
    const timer = setTimeout(() => {
      const box = currentRef.current;
      if (box && !box.closest('form')?.contains(document.activeElement)) box.focus();
    });
    return () => clearTimeout(timer);
  }, []);

  // A server's complaint about a field goes once the field is changed.
  function forget(field: PasswordField) {
    setServerErrors((errors) => {
      if (!errors[field]) return errors;
      const rest = { ...errors };
      delete rest[field];
      return rest;
    });
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (fetching) return;
    // The first field still wrong takes the focus, and says why.
    const blocking: [boolean, RefObject<HTMLInputElement | null>][] = [
      [current === '', currentRef],
      [next.length < MIN_PASSWORD_LENGTH, nextRef],
      [confirmation !== next, confirmRef],
    ];
    const first = blocking.find(([wrong]) => wrong);
    if (first) {
      setTouched(true);
      first[1].current?.focus();
      return;
    }
    setGeneral(null);
    setServerErrors({});
    const result = await changePassword({ input: { currentPassword: current, newPassword: next } });
    const payload = result.data?.changePassword;
    if (!payload || result.error) {
      setGeneral('The password was not changed. Check the connection and try again.');
      return;
    }
    if (payload.userErrors.length > 0) {
      const byField: Partial<Record<PasswordField, string>> = {};
      const other: string[] = [];
      for (const e of payload.userErrors) {
        const field = passwordFieldOf(e.field);
        if (field && !byField[field]) byField[field] = e.message;
        else other.push(e.message);
      }
      setServerErrors(byField);
      setGeneral(other.length > 0 ? other.join(' ') : null);
      if (byField.currentPassword) currentRef.current?.focus();
      else if (byField.newPassword) nextRef.current?.focus();
      return;
    }
    setDone(true);
    requestAnimationFrame(() => closeRef.current?.focus());
  }

  const nextProblem = newPasswordProblem(next) ?? (touched && next === '' ? 'Enter the new password.' : null);
  const confirmProblem =
    confirmationProblem(next, confirmation) ?? (touched && confirmation === '' ? 'Enter the new password again.' : null);
  const currentProblem = touched && current === '' ? 'Enter your current password.' : null;

  if (done) {
    return (
      <>
        <Heading slot="title" id="change-password-title" className="modal__title">
          Password changed
        </Heading>
        <p role="status" className="change-password__done">
          Your password was changed. Every other session of yours was signed out; this one stays signed in.
        </p>
        <div className="modal__footer">
          <Button ref={closeRef} className="button button--primary" onPress={onClose}>
            Close
          </Button>
        </div>
      </>
    );
  }

  return (
    <>
      <header className="modal__header">
        <Heading slot="title" id="change-password-title" className="modal__title">
          Change password
        </Heading>
        <p className="muted modal__sub">Your other sessions are signed out when it changes.</p>
      </header>
      <Form
        className="change-password__form"
        validationBehavior="aria"
        validationErrors={serverErrors}
        onSubmit={submit}
      >
        <TextField
          name="currentPassword"
          type="password"
          className="field"
          value={current}
          onChange={(value) => {
            setCurrent(value);
            forget('currentPassword');
          }}
          isInvalid={currentProblem !== null || undefined}
          autoComplete="current-password"
        >
          <Label>Current password</Label>
          <Input ref={currentRef} className="input" />
          <FieldError className="field-error">{currentProblem}</FieldError>
        </TextField>
        <TextField
          name="newPassword"
          type="password"
          className="field"
          value={next}
          onChange={(value) => {
            setNext(value);
            forget('newPassword');
          }}
          validate={() => nextProblem}
          autoComplete="new-password"
        >
          <Label>New password</Label>
          <Input ref={nextRef} className="input" />
          <Text slot="description" className="field__note muted">
            At least {MIN_PASSWORD_LENGTH} characters.
          </Text>
          <FieldError className="field-error" />
        </TextField>
        <TextField
          name="confirmPassword"
          type="password"
          className="field"
          value={confirmation}
          onChange={setConfirmation}
          validate={() => confirmProblem}
          autoComplete="new-password"
        >
          <Label>Confirm new password</Label>
          <Input ref={confirmRef} className="input" />
          <FieldError className="field-error" />
        </TextField>
        {general && (
          <p className="form-error" role="alert">
            {general}
          </p>
        )}
        <div className="modal__footer change-password__buttons">
          <Button className="button" onPress={onClose}>
            Cancel
          </Button>
          <Button type="submit" className="button button--primary" isDisabled={fetching}>
            {fetching ? 'Changing…' : 'Change password'}
          </Button>
        </div>
      </Form>
    </>
  );
}
