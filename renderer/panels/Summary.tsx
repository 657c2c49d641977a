/**
 * The model summary, like torchinfo: one row per layer (output shape with the batch, parameter
 * count, FLOPs of a forward pass over the batch), then totals and memory at the chosen batch size.
 * With groups, rows nest like torchinfo's depth levels (panels/summaryDepth.ts): a group's row, then its
 * layers indented one level; a depth selector and each group row's toggle hide what is deeper.
 */
import { useEffect, useMemo, useState } from 'react';
import { actionToggleSummary } from '../actions/actionPanels';
import { run } from '../actions/registry';
import { fmtBytes, fmtCount, fmtFlops } from '../state/graph';
import { useStore } from '../state/store';
import { DEPTH_CHOICES, rowKey, visibleRows, type DepthChoice } from './summaryDepth';
import { SummaryDeviceFit } from './SummaryDeviceFit';

function BatchSizeInput() {
  const batchSize = useStore((s) => s.batchSize);
  const [text, setText] = useState(String(batchSize));
  useEffect(() => setText(String(batchSize)), [batchSize]);
  const n = Number(text);
  const valid = /^\d+$/.test(text.trim()) && n > 0 && n <= 1_000_000;
  return (
    <label className="batch-size" title="batch size used for shapes, FLOPs and activation memory (the project's training.batch_size by default)">
      batch size
      <input
        type="text"
        inputMode="numeric"
        data-testid="batch-size"
        className={valid ? '' : 'invalid'}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const v = Number(e.target.value);
          if (/^\d+$/.test(e.target.value.trim()) && v > 0 && v <= 1_000_000) useStore.getState().setBatchSize(v);
        }}
      />
    </label>
  );
}

export function Summary() {
  const summary = useStore((s) => s.analysis?.summary);
  const batch = useStore((s) => s.analysis?.batchSize);
  const issueCount = useStore((s) => (s.nodes.length ? (s.analysis?.issues.length ?? 0) : 0));
  const open = useStore((s) => s.panels.summary);
  const [depth, setDepth] = useState<DepthChoice>('all');
  const [folded, setFolded] = useState<ReadonlySet<string>>(() => new Set());
  const nested = !!summary?.rows.some((r) => r.groupId !== undefined);
  const rows = useMemo(() => (summary ? visibleRows(summary.rows, depth, folded) : []), [summary, depth, folded]);
  // a repeat's copy i >= 1 is `<id>@<i>`: its row selects the layer drawn on the canvas
  const select = (nodeId: string) => useStore.getState().select([nodeId.replace(/@[1-9][0-9]*$/, '')]);
  const toggle = (key: string) =>
    setFolded((f) => {
      const next = new Set(f);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  return (
    <section className={`summary panel${open ? '' : ' collapsed'}`} data-testid="summary">
      <header className="summary-head">
        <button className="link" onClick={() => run(actionToggleSummary, undefined)} aria-expanded={open} data-testid="summary-toggle">
          <span className={`chevron${open ? ' open' : ''}`}>▸</span> Model summary
        </button>
        {summary && (
          <div className="summary-totals-inline">
            <span>
              <span className="muted">params</span> <strong data-testid="summary-total-params">{fmtCount(summary.totalParams)}</strong>
            </span>
            <span>
              <span className="muted">FLOPs</span> <strong>{fmtFlops(summary.totalFlops)}</strong>
            </span>
            <span>
              <span className="muted">memory</span> <strong>{fmtBytes(summary.paramBytes + summary.activationBytes)}</strong>
            </span>
            {issueCount > 0 && <span className="badge danger">{issueCount} problem{issueCount > 1 ? 's' : ''}</span>}
          </div>
        )}
        {nested && (
          <label className="summary-depth" title="like torchinfo's depth: how many levels of submodules to show">
            depth
            <select data-testid="summary-depth" value={depth} onChange={(e) => setDepth(e.target.value as DepthChoice)}>
              {DEPTH_CHOICES.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </label>
        )}
        <BatchSizeInput />
      </header>
      <SummaryDeviceFit />
      {open && (
        <div className="summary-body">
          {!summary ? (
            <div className="muted small pad">The summary appears once the engine has analysed the graph.</div>
          ) : (
            <div className="summary-grid">
              <div className="summary-rows">
              <table className="summary-table" data-testid="summary-table">
                <thead>
                  <tr>
                    <th>Layer (name)</th>
                    <th>Type</th>
                    <th>Output shape</th>
                    <th className="num">Param #</th>
                    <th className="num">FLOPs</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(({ row: r, hasChildren }) => (
                    <tr
                      key={rowKey(r)}
                      className={r.groupId !== undefined ? 'group-row' : undefined}
                      onClick={() => (r.groupId !== undefined ? useStore.getState().selectGroup(r.groupId) : select(r.nodeId))}
                      data-testid={`summary-row-${r.name}`}
                      data-depth={r.depth ?? 0}
                    >
                      <td className="mono" style={r.depth ? { paddingLeft: `${8 + r.depth * 14}px` } : undefined}>
                        {hasChildren && (
                          <button
                            className="row-toggle"
                            data-testid={`summary-toggle-${r.name}`}
                            aria-expanded={!folded.has(rowKey(r))}
                            aria-label={`${folded.has(rowKey(r)) ? 'Show' : 'Hide'} the rows inside ${r.name}`}
                            onClick={(e) => {
                              e.stopPropagation();
                              toggle(rowKey(r));
                            }}
                          >
                            {folded.has(rowKey(r)) ? '▸' : '▾'}
                          </button>
                        )}
                        {r.name}
                      </td>
                      <td>{r.type}</td>
                      <td className="mono">{r.outShape ? `[${r.outShape.join(', ')}]` : '?'}</td>
                      <td className="num mono">{r.params ? fmtCount(r.params) : '—'}</td>
                      <td className="num mono">{r.flops ? fmtFlops(r.flops) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              </div>
              <dl className="summary-totals">
                <dt>Total params</dt>
                <dd data-testid="summary-total-params-detail">{fmtCount(summary.totalParams)}</dd>
                <dt>Trainable params</dt>
                <dd data-testid="summary-trainable-params">{fmtCount(summary.trainableParams)}</dd>
                <dt>Non-trainable params</dt>
                <dd>{fmtCount(summary.totalParams - summary.trainableParams)}</dd>
                <dt>FLOPs (forward, batch {batch})</dt>
                <dd>{fmtFlops(summary.totalFlops)}</dd>
                <dt>Params size</dt>
                <dd data-testid="summary-param-bytes">{fmtBytes(summary.paramBytes)}</dd>
                <dt>Activations (batch {batch})</dt>
                <dd data-testid="summary-activation-bytes">{fmtBytes(summary.activationBytes)}</dd>
                <dt>Estimated total</dt>
                <dd>{fmtBytes(summary.paramBytes + summary.activationBytes)}</dd>
              </dl>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
