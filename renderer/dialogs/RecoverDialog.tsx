/** On start: "Recover unsaved work from <time>?" when the engine holds a recovery file. */
import { actionContext, reportError } from '../actions/registry';
import { showProject } from '../actions/projectOps';
import { useStore } from '../state/store';
import { Modal } from './Modal';

export function RecoverDialog() {
  const d = useStore((s) => s.dialog);
  if (d?.kind !== 'recover') return null;
  const when = new Date(d.savedAt);
  const whenText = Number.isNaN(when.getTime()) ? d.savedAt : when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const finish = (recover: boolean) => {
    const ctx = actionContext();
    useStore.getState().setDialog(null);
    if (!ctx) return;
    const clear = () => ctx.api.clearRecovery({}).catch(() => {});
    if (recover) showProject(ctx, d.project, d.path, { dirty: true }).then(clear, (e) => reportError(e, 'Recover'));
    else void clear();
  };
  return (
    <Modal
      title="Recover unsaved work?"
      onClose={() => finish(false)}
      testId="dialog-recover"
      footer={
        <>
          <button data-testid="dialog-discard" onClick={() => finish(false)}>
            Discard
          </button>
          <button className="primary" data-testid="dialog-confirm" onClick={() => finish(true)}>
            Recover
          </button>
        </>
      }
    >
      <p>
        Recover unsaved work from <strong>{whenText}</strong>?
      </p>
      <p className="muted small">
        “{d.project.name}” ({d.project.graph.nodes.length} layers){d.path ? `, last saved as ${d.path}` : ', never saved'}. Netloom keeps an autosaved copy while you have
        unsaved changes.
      </p>
    </Modal>
  );
}
