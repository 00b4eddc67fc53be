import { useEffect, useState } from 'react';
import { formatSize, isPreviewable, saveBlob, type Attachment } from './core';
import { useAttachmentTransport } from './transport';
import './attachments.css';

type Shown = Pick<Attachment, 'id' | 'fileName' | 'contentType' | 'size' | 'url' | 'scan'>;

/**
 * A message's files in the transcript: images as thumbnails, every file with a Download button
 * that fetches it with the session's Authorization header and saves it under its name.
 */
export function MessageAttachments({ attachments }: { attachments: readonly Shown[] }) {
  if (attachments.length === 0) return null;
  return (
    <ul className="msg-files" aria-label="Files">
      {attachments.map((a) => (
        <li key={a.id} className="msg-file">
          {a.scan !== 'INFECTED' && isPreviewable(a.contentType) && <Thumbnail attachment={a} />}
          <DownloadButton attachment={a} />
        </li>
      ))}
    </ul>
  );
}

function Thumbnail({ attachment }: { attachment: Shown }) {
  const transport = useAttachmentTransport();
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    transport.imageUrl(attachment.url).then(
      (url) => live && setSrc(url),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [transport, attachment.url]);
  if (failed) return null;
  return (
    <span className="msg-file__thumb">
      {src ? <img src={src} alt={attachment.fileName} /> : <span className="muted">Loading image…</span>}
    </span>
  );
}

function DownloadButton({ attachment }: { attachment: Shown }) {
  const transport = useAttachmentTransport();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (attachment.scan === 'INFECTED')
    return <span className="msg-file__blocked">{attachment.fileName}: blocked, it contains malware</span>;

  async function download() {
    setBusy(true);
    setError(null);
    try {
      saveBlob(await transport.open(attachment.url), attachment.fileName);
    } catch (e) {
      setError(e instanceof Error ? e.message : 'The file could not be downloaded.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <button
        type="button"
        className="msg-file__download"
        aria-label={`Download ${attachment.fileName}, ${formatSize(attachment.size)}`}
        aria-busy={busy}
        onClick={() => void download()}
      >
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M11 3h2v9.6l3.3-3.3 1.4 1.4L12 16.4l-5.7-5.7 1.4-1.4 3.3 3.3zM5 18h14v2H5z" />
        </svg>
        <span className="msg-file__name">{attachment.fileName}</span>
        <span className="msg-file__size">{formatSize(attachment.size)}</span>
      </button>
      {error && (
        <span className="msg-file__error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
