import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';

export interface ToastInput {
  message: string;
  /** A button in the toast, e.g. Open… to switch to the chat it is about (W2). */
  action?: { label: string; onAction: () => void };
  /** Milliseconds before it goes away by itself; 0 keeps it until dismissed. */
  timeoutMs?: number;
}

interface Toast extends ToastInput {
  id: number;
}

interface Toaster {
  show(toast: ToastInput): number;
  dismiss(id: number): void;
}

const DEFAULT_TIMEOUT_MS = 8000;

const ToastContext = createContext<Toaster>({ show: () => 0, dismiss: () => {} });

/** Shows short notices in a polite live region at the corner of the desk. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((all) => all.filter((t) => t.id !== id));
  }, []);

  const show = useCallback((toast: ToastInput) => {
    const id = nextId.current++;
    setToasts((all) => [...all, { ...toast, id }]);
    return id;
  }, []);

  const toaster = useMemo(() => ({ show, dismiss }), [show, dismiss]);

  return (
    <ToastContext.Provider value={toaster}>
      {children}
      <section className="toasts" aria-label="Notifications" aria-live="polite">
        {toasts.map((toast) => (
          <ToastItem key={toast.id} toast={toast} onDismiss={() => dismiss(toast.id)} />
        ))}
      </section>
    </ToastContext.Provider>
  );
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: () => void }) {
  const timeout = toast.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const latest = useRef(onDismiss);
  useEffect(() => {
    latest.current = onDismiss;
  });
  useEffect(() => {
    if (timeout <= 0) return;
    const timer = setTimeout(() => latest.current(), timeout);
    return () => clearTimeout(timer);
  }, [timeout]);

  return (
    <div className="toast" role="status">
      <span className="toast__message">{toast.message}</span>
      {toast.action && (
        <button
          type="button"
          className="button button--primary toast__action"
          onClick={() => {
            toast.action!.onAction();
            onDismiss();
          }}
        >
          {toast.action.label}
        </button>
      )}
      <button type="button" className="toast__close" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}

export function useToasts(): Toaster {
  return useContext(ToastContext);
}
