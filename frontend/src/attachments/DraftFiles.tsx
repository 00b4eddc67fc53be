import { useEffect, useState, useSyncExternalStore, type DragEvent } from 'react';
import { Button, FileTrigger, setInteractionModality, type PressEvent } from 'react-aria-components';
import { chipNote, chipStatus, createDraftList, formatSize, type DraftFile, type DraftList } from './core';
import { useAttachmentTransport } from './transport';
import './attachments.css';

/**
 * The files attached to one unsent reply, uploading as soon as they are added. They are
 * dropped (uploads stopped, previews revoked) when `owner` changes or the component unmounts:
 * attachments do not follow the agent to another interaction, nor survive a reload (S7, E4).
 */
export function useDraftFiles(owner: string): { list: DraftList; files: readonly DraftFile[] } {
  const transport = useAttachmentTransport();
  const [list] = useState(() => createDraftList({ upload: (file, progress) => transport.upload(file, progress) }));
  const files = useSyncExternalStore(list.subscribe, list.list);
  useEffect(() => () => list.clear(), [list, owner]);
  return { list, files };
}

/**
 * FileTrigger opens the picker with the hidden input's click(), which react-aria's global
 * listener takes for a screen reader's virtual click: the modality would stay "virtual" until
 * the next pointer or key press, and hovering Send after picking a file would show no tooltip
 * (useTooltipTrigger opens on hover only in pointer modality). The press's own modality is
 * put back once the picker has opened.
 */
function restoreModality(event: PressEvent) {
  const modality = event.pointerType === 'keyboard' ? 'keyboard' : event.pointerType === 'virtual' ? 'virtual' : 'pointer';
  setTimeout(() => setInteractionModality(modality), 0);
}

/** The paperclip: a file picker that takes several files. */
export function AttachButton({ onFiles, isDisabled }: { onFiles: (files: File[]) => void; isDisabled?: boolean }) {
  return (
    <FileTrigger allowsMultiple onSelect={(files) => files && files.length > 0 && onFiles([...files])}>
      <Button className="button attach-button" aria-label="Attach files" isDisabled={isDisabled} onPress={restoreModality}>
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" className="attach-button__icon">
          <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z" />
        </svg>
      </Button>
    </FileTrigger>
  );
}

/**
 * Drag and drop of files onto an element (the composer): returns the handlers to spread on it
 * and whether files are being dragged over it.
 */
export function useFileDrop(onFiles: (files: File[]) => void, enabled: boolean) {
  const [over, setOver] = useState(false);
  const carriesFiles = (event: DragEvent) => enabled && [...event.dataTransfer.types].includes('Files');
  return {
    over: over && enabled,
    handlers: {
      onDragEnter(event: DragEvent) {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setOver(true);
      },
      onDragOver(event: DragEvent) {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
      },
      onDragLeave(event: DragEvent) {
        // Leaving for a child is not leaving.
        if (event.currentTarget.contains(event.relatedTarget as Node | null)) return;
        setOver(false);
      },
      onDrop(event: DragEvent) {
        setOver(false);
        if (!carriesFiles(event)) return;
        event.preventDefault();
        const files = [...event.dataTransfer.files];
        if (files.length > 0) onFiles(files);
      },
    },
  };
}

/** The attached files as chips: name, size, preview, progress, scan, problem, Remove. */
export function DraftChips({ files, onRemove }: { files: readonly DraftFile[]; onRemove: (key: string) => void }) {
  if (files.length === 0) return null;
  return (
    <ul className="attach-chips" aria-label="Attached files">
      {files.map((file) => (
        <DraftChip key={file.key} file={file} onRemove={() => onRemove(file.key)} />
      ))}
    </ul>
  );
}

function DraftChip({ file, onRemove }: { file: DraftFile; onRemove: () => void }) {
  const status = chipStatus(file);
  const note = chipNote(file);
  const problem = status === 'infected' || status === 'too-large' || status === 'failed';
  return (
    <li className={`attach-chip attach-chip--${status}`} data-status={status} aria-label={file.name}>
      {file.preview ? (
        <img className="attach-chip__preview" src={file.preview} alt="" />
      ) : (
        <span className="attach-chip__icon" aria-hidden="true">
          {extension(file.name)}
        </span>
      )}
      <span className="attach-chip__body">
        <span className="attach-chip__name">{file.name}</span>
        <span className="attach-chip__size muted">{formatSize(file.size)}</span>
        {status === 'uploading' && (
          <progress className="attach-chip__progress" max={1} value={file.progress} aria-label={`Uploading ${file.name}`} />
        )}
        {note && status !== 'uploading' && (
          <span className={problem ? 'attach-chip__problem' : 'attach-chip__note'} role={problem ? 'alert' : undefined}>
            {note}
          </span>
        )}
      </span>
      <Button className="attach-chip__remove" aria-label={`Remove ${file.name}`} onPress={onRemove}>
        ×
      </Button>
    </li>
  );
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot > name.length - 6 ? name.slice(dot + 1).toUpperCase() : 'FILE';
}
