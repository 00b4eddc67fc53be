import { useEffect, useRef, useState } from 'react';
import { useAttachmentTransport } from '../attachments/transport';
import { hasRemoteImages, withRemoteImages } from './signature';
import './email.css';

/**
 * An email in the transcript: its subject and its HTML, which the server has sanitised (no
 * script, no event handler, no style, nothing that loads by itself, C5). Inline images point at
 * the message's attachments and are fetched with the session's credential; remote images stay
 * blocked until the agent chooses "Show remote images" for this message. A plain-text email
 * shows its text.
 */
export function EmailBody({
  email,
  text,
}: {
  email: { subject: string; html?: string | null };
  text: string;
}) {
  const [remote, setRemote] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const transport = useAttachmentTransport();
  const html = email.html ?? '';
  const shown = remote ? withRemoteImages(html) : html;

  // Inline images: /attachments/{id} needs the Authorization header, so each is fetched and
  // shown through an object URL.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let live = true;
    for (const img of el.querySelectorAll<HTMLImageElement>('img[data-attachment-id]')) {
      const url = `/attachments/${img.dataset.attachmentId}`;
      img.removeAttribute('src');
      void transport.imageUrl(url).then(
        (blobUrl) => {
          if (live) img.src = blobUrl;
        },
        () => {},
      );
    }
    return () => {
      live = false;
    };
  }, [shown, transport]);

  return (
    <div className="email-body">
      {email.subject && <p className="email-body__subject">{email.subject}</p>}
      {html ? (
        <>
          {/* Sanitised on the server (bluemonday, then a check that nothing executable is left). */}
          <div ref={ref} className="email-body__html" dangerouslySetInnerHTML={{ __html: shown }} />
          {hasRemoteImages(html) && !remote && (
            <button type="button" className="button button--small email-body__remote" onClick={() => setRemote(true)}>
              Show remote images
            </button>
          )}
        </>
      ) : (
        <p className="msg__text">{text}</p>
      )}
    </div>
  );
}
