/**
 * Toasts: API errors (message + hint + code), refusals and confirmations, with at most one button
 * ("Undo"). They sit in the canvas pane's bottom-left corner, right of the zoom controls and clear of
 * the minimap (styles/workspace.css): over the drawing, never over the results dock's buttons and
 * charts or the side panes' fields, and they go by themselves after a few seconds (toastLifetimeMs).
 */
import { useStore, type Toast } from '../state/store';

function ToastItem({ t, dismiss }: { t: Toast; dismiss: (id: number) => void }) {
  return (
    <div className={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind} role={t.kind === 'error' ? 'alert' : 'status'}>
      <div className="toast-text">
        <div className="toast-message">{t.message}</div>
        {t.hint && <div className="toast-hint">{t.hint}</div>}
        {t.code && <div className="toast-code">{t.code}</div>}
      </div>
      {t.action && (
        <button
          className="toast-action"
          data-testid="toast-action"
          onClick={() => {
            dismiss(t.id);
            t.action!.perform();
          }}
        >
          {t.action.label}
        </button>
      )}
      <button className="toast-close" aria-label="dismiss" onClick={() => dismiss(t.id)}>
        ×
      </button>
    </div>
  );
}

export function Toasts() {
  const toasts = useStore((s) => s.toasts);
  const dismiss = useStore((s) => s.dismissToast);
  // while a dialog is open the toasts sit under its backdrop (they can cover its footer buttons)
  const underModal = useStore((s) => s.dialog !== null || s.helpOpen);
  return (
    <div className={`toasts${underModal ? ' under-modal' : ''}`} aria-live="polite" data-testid="toasts">
      {toasts.map((t) => (
        <ToastItem key={t.id} t={t} dismiss={dismiss} />
      ))}
    </div>
  );
}
