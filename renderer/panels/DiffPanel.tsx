/**
 * The graph diff panel: what the canvas is compared with, the counts, and the layers that differ (each with its
 * changed parameters, `out_features 512 → 256`); clicking one selects and centres its node. It floats over the
 * canvas's top-right corner, so it needs no room of the workspace's panes, and closes with ×.
 *
 * It follows the graph (useDiffFollow): each edit recomputes the diff against the same reference, so the marks on
 * the canvas always describe the graph as it is; opening another project closes it (its reference belonged to
 * the project that was open). Removed layers are drawn as ghosts where the reference had them. Also here: the compare dialog of a browser tab (the desktop app uses the
 * operating system's).
 */
import { ViewportPortal } from '@xyflow/react';
import { useEffect } from 'react';
import '../styles/diff.css';
import { actionCloseDiff, compareWith, fileSource } from '../actions/actionCompare';
import { actionContext, run } from '../actions/registry';
import { PathForm } from '../dialogs/PathForm';
import { usePathSubmit } from '../dialogs/usePathSubmit';
import { changeText, clearDiff, listedLayers, setDiffResult, summaryText, useDiff, type DiffLayer } from '../state/diff';
import { graphKey, useStore, type State } from '../state/store';

const FOLLOW_MS = 250;

/** Recomputes the diff when the graph's content changes; closes it when another project is loaded. */
function useDiffFollow(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastKey = graphKey(useStore.getState());
    const unsubscribe = useStore.subscribe((s: State, prev: State) => {
      const { source } = useDiff.getState();
      if (!source) {
        lastKey = graphKey(s);
        return;
      }
      // a load replaces the history with an empty one: New, Open, a template, a recovered file
      if (s.history !== prev.history && s.history.past.length === 0 && s.history.future.length === 0 && s.nodes !== prev.nodes) {
        clearTimeout(timer);
        clearDiff();
        lastKey = graphKey(s);
        return;
      }
      // groups too: a group's name or repeat changes the keys under it without touching a layer
      if (s.nodes === prev.nodes && s.edges === prev.edges && s.groups === prev.groups) return;
      const key = graphKey(s);
      if (key === lastKey) return; // a drag or a selection
      lastKey = key;
      clearTimeout(timer);
      timer = setTimeout(() => {
        const ctx = actionContext();
        const now = useDiff.getState().source;
        if (ctx && now) void compareWith(ctx, now);
      }, FOLLOW_MS);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, []);
}

/** Selects the layer's node and centres the view on it. */
function focusNode(nodeId: string): void {
  const ctx = actionContext();
  useStore.getState().select([nodeId]);
  void ctx?.flow?.fitView({ nodes: [{ id: nodeId }], maxZoom: 1, minZoom: 0.6, duration: 200 });
}

function LayerEntry({ layer }: { layer: DiffLayer }) {
  const onCanvas = layer.nodeId !== undefined && layer.status !== 'removed';
  const title = layer.status === 'renamed' ? `${layer.baseName} → ${layer.name}` : layer.name;
  return (
    <li className={`diff-item diff-${layer.status}`} data-testid={`diff-item-${layer.name}`} data-status={layer.status}>
      <button className="diff-item-head link" disabled={!onCanvas} onClick={() => onCanvas && focusNode(layer.nodeId!)} title={onCanvas ? 'select and show it on the canvas' : 'not on the canvas'}>
        <span className="diff-status">{layer.status}</span>
        <span className="diff-name">{title}</span>
        {layer.type && <span className="muted small">{layer.type}</span>}
      </button>
      {layer.changes.length > 0 && (
        <ul className="diff-changes">
          {layer.changes.map((c) => (
            <li key={c.param}>{changeText(c)}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

function DiffBody() {
  const result = useDiff((d) => d.result);
  const error = useDiff((d) => d.error);
  if (error)
    return (
      <div className="dialog-error" data-testid="diff-error" role="alert">
        <div>{error.message}</div>
        {error.hint && <div className="muted small">{error.hint}</div>}
      </div>
    );
  if (!result) return <div className="muted small">Comparing…</div>;
  const { changed, same } = listedLayers(result);
  const edges = [...result.edges.added.map((e) => ({ e, sign: '+' })), ...result.edges.removed.map((e) => ({ e, sign: '−' }))];
  return (
    <>
      <div className="diff-summary" data-testid="diff-summary">
        {summaryText(result)}
      </div>
      {changed.length > 0 && (
        <ul className="diff-list" data-testid="diff-list">
          {changed.map((l) => (
            <LayerEntry key={`${l.status}:${l.name}`} layer={l} />
          ))}
        </ul>
      )}
      {edges.length > 0 && (
        <div className="diff-edges" data-testid="diff-edges">
          <div className="muted small">Connections</div>
          {edges.map(({ e, sign }) => (
            <div key={`${sign}${e.source}>${e.target}${e.port ?? ''}`} className={sign === '+' ? 'diff-edge-added' : 'diff-edge-removed'}>
              {sign} {e.source} → {e.target}
              {e.port ? ` (${e.port})` : ''}
            </div>
          ))}
        </div>
      )}
      {same.length > 0 && <div className="muted small">{same.length} unchanged layer{same.length === 1 ? '' : 's'}</div>}
      {result.notes.map((n) => (
        <div key={n} className="muted small diff-note">
          {n}
        </div>
      ))}
    </>
  );
}

/**
 * Removed layers drawn where the reference had them, faded and dashed, in the canvas's own coordinates (React
 * Flow's viewport portal: they pan and zoom with the nodes), and never in the way: no pointer events.
 */
function Ghosts() {
  const result = useDiff((d) => d.result);
  const ghosts = result?.layers.filter((l) => l.status === 'removed' && l.position) ?? [];
  if (ghosts.length === 0) return null;
  return (
    <ViewportPortal>
      {ghosts.map((l) => (
        <div key={l.name} className="diff-ghost" data-testid={`diff-ghost-${l.name}`} style={{ transform: `translate(${l.position!.x}px, ${l.position!.y}px)` }} aria-hidden="true">
          <span className="diff-badge diff-removed">removed</span>
          <div className="layer-type">{l.type}</div>
          <div className="layer-name">{l.name}</div>
        </div>
      ))}
    </ViewportPortal>
  );
}

/** A browser tab's compare dialog: a project file or a checkpoint on the engine's machine. */
function CompareDialog({ kind }: { kind: 'project' | 'checkpoint' }) {
  const close = () => useDiff.setState({ picking: null });
  const { path, changePath, error, busy, submit } = usePathSubmit(
    () => '',
    async (ctx, file) => {
      const source = fileSource(kind, file);
      // a file that is not one (or does not fit) is said in the dialog, so the user can pick another
      const result = await ctx.api.diffGraph({ graph: ctx.state().toProject().graph, against: source.against });
      setDiffResult(source, result);
      close();
    },
  );
  return (
    <PathForm
      title={kind === 'project' ? 'Compare with a project file' : 'Compare with a checkpoint'}
      testId="dialog-compare"
      label={kind === 'project' ? 'Project file (.netloom, .json)' : 'Checkpoint (safetensors, .pt/.pth, .onnx): compared by state-dict keys and shapes'}
      path={path}
      onPathChange={changePath}
      onSubmit={() => void submit()}
      onClose={close}
      busy={busy}
      confirmLabel={busy ? 'Comparing…' : 'Compare'}
      error={error}
      browse={{ mode: 'open', purpose: kind === 'project' ? 'project' : 'weights' }}
      list={{ kind: kind === 'project' ? 'project' : 'weights', mode: 'open' }}
    />
  );
}

export function DiffPanel() {
  useDiffFollow();
  const source = useDiff((d) => d.source);
  const picking = useDiff((d) => d.picking);
  const busy = useDiff((d) => d.busy);
  return (
    <>
      {picking && <CompareDialog key={picking} kind={picking} />}
      {source && <Ghosts />}
      {source && (
        <aside className="diff-panel" data-testid="diff-panel" aria-label="Graph comparison">
          <header className="diff-head">
            <span className="diff-title" title={source.label}>
              Compared with {source.label}
            </span>
            {busy && <span className="muted small">updating…</span>}
            <button className="tool small" data-testid="diff-close" aria-label="Close the comparison" title="Close the comparison" onClick={() => run(actionCloseDiff, undefined)}>
              ×
            </button>
          </header>
          <div className="diff-body">
            <DiffBody />
          </div>
        </aside>
      )}
    </>
  );
}
