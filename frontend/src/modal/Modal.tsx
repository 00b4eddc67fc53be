import { useEffect, type ReactNode, type RefObject } from 'react';
import { Dialog, Heading, Modal as AriaModal, ModalOverlay } from 'react-aria-components';

/**
 * The shell every modal dialog shares, on react-aria-components: a backdrop that closes it when
 * clicked outside, Escape that closes it, a labelled `role="dialog"` with its title and subtitle.
 * While it is open the rest of the page is inert, Tab stays inside, and on close focus returns
 * to what opened it (ModalOverlay, Modal and their FocusScope do all of that). Focus starts on
 * `initialFocus`, else on the dialog itself.
 *
 * react-aria leaves out `aria-modal` for a Safari bug in iframes (it focuses the first control,
 * whatever was focused): our dialogs start on their first control anyway, and screen readers
 * still need to be told the dialog is modal, so it is set here.
 */
export function Modal({
  className,
  title,
  sub,
  onClose,
  role = 'dialog',
  initialFocus,
  children,
}: {
  className: string;
  title: ReactNode;
  sub?: ReactNode;
  onClose: () => void;
  role?: 'dialog' | 'alertdialog';
  /** The control focus starts on. */
  initialFocus?: RefObject<HTMLElement | null>;
  children: ReactNode;
}) {
  // The dialog focuses itself as it mounts (its effect runs before this parent's): move on.
  useEffect(() => {
    initialFocus?.current?.focus();
  }, [initialFocus]);
  return (
    <ModalOverlay
      isOpen
      isDismissable={role === 'dialog'}
      onOpenChange={(open) => {
        if (!open) onClose();
      }}
      className="modal-backdrop"
    >
      <AriaModal className="modal-frame">
        <Dialog
          role={role}
          className={`modal ${className}`}
          render={(props) => <section {...props} aria-modal="true" />}
        >
          <header className="modal__header">
            <Heading slot="title" className="modal__title">
              {title}
            </Heading>
            {sub && <p className="muted modal__sub">{sub}</p>}
          </header>
          {children}
        </Dialog>
      </AriaModal>
    </ModalOverlay>
  );
}
