/** Toasts: API errors (message + hint + code), refusals and confirmations. */
import { useStore } from '../state/store';

export function Toasts() {
  const toasts = useStore((s) => s.toasts);
  const dismiss = useStore((s) => s.dismissToast);
  // while a dialog is open the toasts sit under its backdrop (they can cover its footer buttons)
  const underModal = useStore((s) => s.dialog !== null || s.helpOpen);
  return (
    <div className={`toasts${underModal ? ' under-modal' : ''}`} aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind} role={t.kind === 'error' ? 'alert' : 'status'}>
          <div className="toast-text">
            <div className="toast-message">{t.message}</div>
            {t.hint && <div className="toast-hint">{t.hint}</div>}
            {t.code && <div className="toast-code">{t.code}</div>}
          </div>
          <button className="toast-close" aria-label="dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
