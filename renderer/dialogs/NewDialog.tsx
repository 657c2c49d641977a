/** New project: an empty canvas or one of the engine's templates. */
import { useEffect, useState } from 'react';
import type { TemplateDto } from '../../engine/contract/api';
import { actionContext, reportError } from '../actions/registry';
import { newFromTemplate } from '../actions/projectOps';
import { useStore } from '../state/store';
import { Modal } from './Modal';

export function NewDialog() {
  const open = useStore((s) => s.dialog?.kind === 'new');
  const api = useStore((s) => s.api);
  const [templates, setTemplates] = useState<TemplateDto[] | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  useEffect(() => {
    if (!open || !api) return;
    api.listTemplates({}).then(setTemplates, (e) => {
      setTemplates([]);
      reportError(e, 'Templates');
    });
  }, [open, api]);
  if (!open) return null;
  const close = () => useStore.getState().setDialog(null);
  const create = (id: string | null) => {
    const ctx = actionContext();
    close();
    if (ctx) newFromTemplate(ctx, id).catch((e) => reportError(e, 'New project'));
  };
  return (
    <Modal
      title="New project"
      onClose={close}
      testId="dialog-new"
      wide
      footer={
        <>
          <button data-testid="dialog-cancel" onClick={close}>
            Cancel
          </button>
          <button className="primary" data-testid="dialog-confirm" onClick={() => create(picked)}>
            Create
          </button>
        </>
      }
    >
      <div className="template-grid">
        <button className={`template-card${picked === null ? ' picked' : ''}`} data-testid="template-empty" onClick={() => setPicked(null)} onDoubleClick={() => create(null)}>
          <strong>Empty canvas</strong>
          <span className="muted small">Start from nothing.</span>
        </button>
        {templates === null && <div className="muted small pad">Loading templates…</div>}
        {templates?.map((t) => (
          <button
            key={t.id}
            className={`template-card${picked === t.id ? ' picked' : ''}`}
            data-testid={`template-${t.id}`}
            onClick={() => setPicked(t.id)}
            onDoubleClick={() => create(t.id)}
          >
            <strong>{t.name}</strong>
            <span className="muted small">{t.description}</span>
            <span className="tag">{t.dataset}</span>
          </button>
        ))}
      </div>
    </Modal>
  );
}
