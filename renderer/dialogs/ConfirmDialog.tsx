/**
 * A question: Cancel and a confirm button, and optionally a third answer between them ("Discard",
 * for Save / Discard / Cancel). Every way of closing it without an answer (Cancel, Escape, the
 * backdrop, ×) is Cancel. askChoice (dialogs/askChoice.ts) wraps it in a promise.
 */
import { useStore } from '../state/store';
import { Modal } from './Modal';

export function ConfirmDialog() {
  const d = useStore((s) => s.dialog);
  if (d?.kind !== 'confirm') return null;
  const answer = (then?: () => void) => {
    useStore.getState().setDialog(null);
    then?.();
  };
  return (
    <Modal
      title={d.title}
      onClose={() => answer(d.onCancel)}
      testId="dialog-confirm-discard"
      footer={
        <>
          <button data-testid="dialog-cancel" onClick={() => answer(d.onCancel)}>
            Cancel
          </button>
          {d.discardLabel && (
            <button className="danger" data-testid="dialog-discard" onClick={() => answer(d.onDiscard)}>
              {d.discardLabel}
            </button>
          )}
          <button className={d.safe ? 'primary' : 'primary danger'} data-testid="dialog-confirm" onClick={() => answer(d.onConfirm)}>
            {d.confirmLabel}
          </button>
        </>
      }
    >
      <p>{d.message}</p>
    </Modal>
  );
}
