import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { StartOutboundDialog, type OutboundChannel } from './StartOutboundDialog';

const items: { channel: OutboundChannel; label: string }[] = [
  { channel: 'SMS', label: 'Initiate SMS interaction' },
  { channel: 'WHATSAPP', label: 'Initiate WhatsApp interaction' },
  { channel: 'EMAIL', label: 'Initiate email interaction' },
];

/**
 * "New" above the conversation log (S9): a menu button whose items open the outbound start
 * dialog for SMS or WhatsApp (C1). Webchat is absent: it cannot be started by an agent (O3).
 * It follows the ARIA menu button pattern: Enter, Space or Down opens it on the first item,
 * Up on the last; arrows, Home and End move; Escape closes it and returns to the button.
 */
export function NewInteractionMenu({ onStarted }: { onStarted: (interactionId: string) => void }) {
  const menuId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);
  const [open, setOpen] = useState<false | 'first' | 'last'>(false);
  const [dialog, setDialog] = useState<OutboundChannel | null>(null);

  useEffect(() => {
    if (!open) return;
    const menuItems = menuRef.current?.querySelectorAll<HTMLElement>('[role=menuitem]');
    menuItems?.[open === 'first' ? 0 : menuItems.length - 1]?.focus();
    const outside = (event: MouseEvent) => {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open]);

  function close() {
    setOpen(false);
    buttonRef.current?.focus();
  }

  function choose(channel: OutboundChannel) {
    // Focus goes back to the button first, so the dialog returns it there when it closes.
    close();
    setDialog(channel);
  }

  function onButtonKeyDown(event: KeyboardEvent<HTMLButtonElement>) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(event.key === 'ArrowDown' ? 'first' : 'last');
    }
  }

  function onMenuKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const menuItems = Array.from(event.currentTarget.querySelectorAll<HTMLElement>('[role=menuitem]'));
    const index = menuItems.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => {
      event.preventDefault();
      menuItems[(to + menuItems.length) % menuItems.length]?.focus();
    };
    switch (event.key) {
      case 'ArrowDown':
        return move(index + 1);
      case 'ArrowUp':
        return move(index - 1);
      case 'Home':
        return move(0);
      case 'End':
        return move(menuItems.length - 1);
      case 'Escape':
        event.preventDefault();
        return close();
      case 'Tab':
        setOpen(false);
    }
  }

  return (
    <div className="new-menu">
      <button
        ref={buttonRef}
        type="button"
        className="button new-menu__button"
        aria-haspopup="menu"
        aria-expanded={Boolean(open)}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen(open ? false : 'first')}
        onKeyDown={onButtonKeyDown}
      >
        New <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <ul ref={menuRef} id={menuId} role="menu" aria-label="New" className="new-menu__list" onKeyDown={onMenuKeyDown}>
          {items.map((item) => (
            <li key={item.channel} role="none">
              <button type="button" role="menuitem" tabIndex={-1} className="new-menu__item" onClick={() => choose(item.channel)}>
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      )}
      {dialog && (
        <StartOutboundDialog
          channel={dialog}
          onClose={() => setDialog(null)}
          onStarted={(id) => {
            setDialog(null);
            onStarted(id);
          }}
        />
      )}
    </div>
  );
}
