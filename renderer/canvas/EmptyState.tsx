/** What an empty canvas says: how to start, and the templates one click away. */
import { useEffect, useState } from 'react';
import type { TemplateDto } from '../../engine/contract/api';
import { actionContext, reportError } from '../actions/registry';
import { newFromTemplate } from '../actions/projectOps';
import { useStore } from '../state/store';

export function EmptyState() {
  const api = useStore((s) => s.api);
  const connected = useStore((s) => s.connection.status === 'open');
  const [templates, setTemplates] = useState<TemplateDto[]>([]);
  useEffect(() => {
    if (!api || !connected) return;
    api.listTemplates({}).then(setTemplates, () => {});
  }, [api, connected]);
  return (
    <div className="empty-state" data-testid="empty-state">
      <div className="empty-card">
        <h2>Draw a network</h2>
        <p>
          Drag a layer from the palette, or press <kbd>A</kbd> on the canvas to add one where the pointer is. Connect an output
          (bottom) to an input (top); shapes and parameter counts appear as you go.
        </p>
        {templates.length > 0 && (
          <>
            <div className="empty-sub">Or start from an example</div>
            <div className="empty-templates">
              {templates.map((t) => (
                <button
                  key={t.id}
                  className="template-chip"
                  data-testid={`empty-template-${t.id}`}
                  title={t.description}
                  onClick={() => {
                    const ctx = actionContext();
                    if (ctx) newFromTemplate(ctx, t.id).catch((e) => reportError(e, 'New from template'));
                  }}
                >
                  <strong>{t.name}</strong>
                  <span>{t.dataset}</span>
                </button>
              ))}
            </div>
          </>
        )}
      </div>
    </div>
  );
}
