import { useStore } from '../state/store';
import { Modal } from './Modal';

export function ConfirmDialog() {
  const d = useStore((s) => s.dialog);
  if (d?.kind !== 'confirm') return null;
  const close = () => useStore.getState().setDialog(null);
  return (
    <Modal
      title={d.title}
      onClose={close}
      testId="dialog-confirm-discard"
      footer={
        <>
          <button data-testid="dialog-cancel" onClick={close}>
            Cancel
          </button>
          <button
            className="primary danger"
            data-testid="dialog-confirm"
            onClick={() => {
              close();
              d.onConfirm();
            }}
          >
            {d.confirmLabel}
          </button>
        </>
      }
    >
      <p>{d.message}</p>
    </Modal>
  );
}
