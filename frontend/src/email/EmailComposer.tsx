import type { Editor } from '@tiptap/react';
import { useCallback, useImperativeHandle, useRef, useState, type Ref } from 'react';
import { useMutation, useQuery } from 'urql';
import { sendBlockedReason } from '../attachments/core';
import { AttachButton, DraftChips, useDraftFiles } from '../attachments/DraftFiles';
import { useAttachmentTransport } from '../attachments/transport';
import type { EditFiles } from '../delivery/DeliveryMark';
import { graphql } from '../gql';
import type { InteractionState } from '../gql/graphql';
import type { ComposerHandle } from '../interaction/Composer';
import { RichTextEditor } from './RichTextEditor';
import { htmlText, isEmptyHtml, replyHtml } from './signature';
import './email.css';
import { emailDrafts } from '../drafts';

export const MySignatureQuery = graphql(`
  query MySignature {
    me {
      id
      signature
    }
  }
`);

const SendEmailMutation = graphql(`
  mutation SendEmail($input: SendMessageInput!) {
    sendMessage(input: $input) {
      message {
        ...TranscriptMessage
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

// What the agent wrote per interaction, without the signature: switching tabs or parking and
// coming back finds it as it was, and the signature is never added twice (E2; drafts.ts).
const drafts = emailDrafts;

/**
 * The email reply editor (E1, E2, C5): rich text (bold, italic, lists, links, pasted or
 * dropped images), the agent's signature under it as its own paragraph, anchored at the bottom
 * and not part of the draft, so it appears once however often the editor opens; the cursor
 * starts at the top, above it. The reply answers the latest email of the thread (the server's
 * replyTo) with "Re: " and the thread's headers. A failed reply's Edit puts its HTML back (E5).
 */
export function EmailComposer({
  interactionId,
  state,
  closedReason,
  onSent,
  autoFocus = false,
  ref,
}: {
  interactionId: string;
  state: InteractionState;
  closedReason?: string;
  onSent?: () => void;
  autoFocus?: boolean;
  ref?: Ref<ComposerHandle>;
}) {
  const [{ data }] = useQuery({ query: MySignatureQuery });
  const signature = data?.me?.signature ?? '';
  const [body, setBody] = useState(() => drafts.get(interactionId) ?? '');
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, send] = useMutation(SendEmailMutation);
  const editorRef = useRef<Editor | null>(null);
  const files = useDraftFiles(interactionId);
  const transport = useAttachmentTransport();
  const enabled = state === 'ACTIVE' && !closedReason;
  const somethingToSend = !isEmptyHtml(body) || files.files.length > 0;
  const blocked = sendBlockedReason(files.files);
  const canSend = enabled && !fetching && somethingToSend && blocked === null;

  const changed = useCallback(
    (html: string) => {
      drafts.set(interactionId, html);
      setBody(html);
    },
    [interactionId],
  );
  const ready = useCallback(
    (editor: Editor) => {
      editorRef.current = editor;
      if (autoFocus && enabled) editor.commands.focus('start');
    },
    [autoFocus, enabled],
  );

  useImperativeHandle(
    ref,
    () => ({
      edit(text: string, html?: string | null, sent?: EditFiles) {
        // The sent HTML carries the signature: take it out, it is added again on send.
        const content = (html ?? `<p>${escapeHtml(text)}</p>`).replace(/<div class="signature"[^]*$/, '');
        drafts.set(interactionId, content);
        setBody(content);
        setError(null);
        editorRef.current?.commands.setContent(content);
        editorRef.current?.commands.focus('end');
        // The failed email's files come back as drafts, uploaded (and scanned) again; a file
        // the scanner blocked has no bytes to bring back: the reason says which (E5).
        const blocked: string[] = [];
        for (const file of sent ?? []) {
          if (file.scan === 'INFECTED') {
            blocked.push(file.fileName);
            continue;
          }
          void transport.open(file.url).then(
            (blob) => files.list.add([new File([blob], file.fileName, { type: file.contentType })]),
            () => setError(`${file.fileName} could not be brought back: attach it again.`),
          );
        }
        if (blocked.length > 0) setError(`Left out, blocked by the malware scan: ${blocked.join(', ')}.`);
      },
    }),
    [interactionId, transport, files.list],
  );

  async function submit() {
    if (!canSend) return;
    setError(null);
    const html = replyHtml(body, signature);
    const attachmentIds = files.list.ids();
    const result = await send({
      input: { interactionId, text: htmlText(html), html, ...(attachmentIds.length > 0 && { attachmentIds }) },
    });
    const userError = result.data?.sendMessage.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error || !result.data?.sendMessage.message) setError('The email was not sent. Check the connection and try again.');
    else {
      drafts.delete(interactionId);
      setBody('');
      editorRef.current?.commands.clearContent();
      files.list.removeSent(attachmentIds);
      onSent?.();
    }
  }

  return (
    <form
      className="composer composer--email"
      aria-label="Email reply"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <DraftChips files={files.files} onRemove={files.list.remove} />
      <RichTextEditor
        key={interactionId}
        label="Reply"
        initialHtml={drafts.get(interactionId) ?? ''}
        onChange={changed}
        onReady={ready}
        onImageRefused={setError}
        disabled={!enabled}
        footer={
          signature ? (
            <div className="email-composer__signature" data-testid="signature" aria-label="Your signature">
              {/* The agent's own signature, sanitised by the server when it was saved. */}
              <div dangerouslySetInnerHTML={{ __html: signature }} />
            </div>
          ) : null
        }
      />
      <div className="composer__bar">
        <AttachButton onFiles={(added) => files.list.add(added)} isDisabled={!enabled} />
        <span className="composer__hint muted">
          {!enabled
            ? (closedReason ?? (state === 'PARKED' ? 'Parked: replies open again when the contact writes back.' : 'Replies are closed.'))
            : (blocked ?? 'Your reply answers the latest email; your signature is added under it.')}
        </span>
        {error && (
          <span className="composer__error" role="alert">
            {error}
          </span>
        )}
        <button type="submit" className="button button--primary" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br>');
}
