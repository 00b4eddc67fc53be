import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { Modal } from '../modal/Modal';
import { MySignatureQuery } from './EmailComposer';
import { RichTextEditor } from './RichTextEditor';
import { isEmptyHtml } from './signature';

const SetSignatureMutation = graphql(`
  mutation SetSignature($input: SetSignatureInput!) {
    setSignature(input: $input) {
      agent {
        id
        signature
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

/**
 * "Email signature" in the account area (E2): the agent's default signature, edited as rich
 * text and saved with setSignature; the reply editor shows it under every reply.
 */
export function SignatureButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="button button--quiet" onClick={() => setOpen(true)}>
        Email signature
      </button>
      {open && <SignatureDialog onClose={() => setOpen(false)} />}
    </>
  );
}

function SignatureDialog({ onClose }: { onClose: () => void }) {
  const [{ data, fetching: loading }] = useQuery({ query: MySignatureQuery });
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, save] = useMutation(SetSignatureMutation);
  const current = data?.me?.signature ?? '';

  async function submit() {
    setError(null);
    const value = html ?? current;
    const result = await save({ input: { html: isEmptyHtml(value) ? '' : value } });
    const userError = result.data?.setSignature.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error || !result.data?.setSignature.agent) setError('The signature was not saved. Check the connection and try again.');
    else onClose();
  }

  return (
    <Modal className="signature-dialog" title="Email signature" sub="Added under every email you write, once, as its own paragraph." onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        {loading && !data ? (
          <p className="muted">Loading…</p>
        ) : (
          <RichTextEditor label="Signature" initialHtml={current} onChange={setHtml} onImageRefused={setError} />
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <footer className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" disabled={fetching}>
            {fetching ? 'Saving…' : 'Save signature'}
          </button>
        </footer>
      </form>
    </Modal>
  );
}
