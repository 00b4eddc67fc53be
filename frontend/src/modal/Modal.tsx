import type { KeyboardEvent, ReactNode, RefObject } from 'react';
import { createPortal } from 'react-dom';

/**
 * The shell every modal dialog shares: a backdrop that closes it when clicked, and a labelled
 * `role="dialog"` with its title and subtitle. Focus and inertness come from useModal.
 */
export function Modal({
  dialogRef,
  className,
  titleId,
  title,
  sub,
  onClose,
  onKeyDown,
  children,
}: {
  dialogRef: RefObject<HTMLDivElement | null>;
  className: string;
  titleId: string;
  title: ReactNode;
  sub: ReactNode;
  onClose: () => void;
  onKeyDown: (event: KeyboardEvent<HTMLDivElement>) => void;
  children: ReactNode;
}) {
  return createPortal(
    <div
      className="modal-backdrop"
      onMouseDown={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <div
        ref={dialogRef}
        className={`modal ${className}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={onKeyDown}
      >
        <header className="modal__header">
          <h2 id={titleId} className="modal__title">
            {title}
          </h2>
          <p className="muted modal__sub">{sub}</p>
        </header>
        {children}
      </div>
    </div>,
    document.body,
  );
}
