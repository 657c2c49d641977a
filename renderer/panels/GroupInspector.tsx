/**
 * The inspector's group parts: a selected group's name (checked live, renaming every key under it in one
 * undo step), its Repeat count (an nn.Sequential of N copies: layer1.0., layer1.1., ...), collapse, its
 * shapes and parameters, Ungroup; a grouped layer's full key; the Group button for a multi-selection.
 */
import { actionGroup } from '../actions/actionGroup';
import { actionRenameGroup, actionSetGroupRepeat, actionToggleGroup } from '../actions/actionGroupProps';
import { actionUngroup } from '../actions/actionUngroup';
import { run } from '../actions/registry';
import { fmtCount, fmtShape } from '../state/graph';
import { copyPrefixes, fullName, groupNameProblem, groupPath, memberIds, parseRepeat } from '../state/groups';
import { useStore } from '../state/store';
import { useDraftText } from '../hooks/useDraftText';

/** A grouped layer's state-dict prefix, read-only (copy 0's for a repeat). */
export function FullPath({ group, name }: { group: string; name: string }) {
  const full = useStore((s) => fullName(s.groups, group, name));
  return (
    <div className="param-field">
      <div className="param-label">
        <span className="param-name">full key</span>
      </div>
      <div className="full-path" data-testid="node-full-path" title="the state-dict prefix: the groups' names and this layer's name">
        {full}
      </div>
    </div>
  );
}

export function GroupButton() {
  return (
    <button data-testid="btn-group-selection" title="Group the selected layers as a submodule (Ctrl+G)" onClick={() => run(actionGroup, undefined)}>
      Group as submodule…
    </button>
  );
}

function GroupNameField({ id, name, parent }: { id: string; name: string; parent?: string }) {
  const { text, error, change, revert } = useDraftText(
    name,
    (t) => {
      const s = useStore.getState();
      return groupNameProblem(t, parent, s.nodes, s.groups, id);
    },
    (t) => run(actionRenameGroup, { id, name: t }),
  );
  return (
    <div className={`param-field${error ? ' has-error' : ''}`}>
      <div className="param-label">
        <label className="param-name" htmlFor="group-inspector-name">
          name
        </label>
      </div>
      <input
        id="group-inspector-name"
        data-testid="group-name"
        type="text"
        spellCheck={false}
        className={error ? 'invalid' : ''}
        aria-invalid={!!error}
        value={text}
        onChange={(e) => change(e.target.value)}
        onBlur={revert}
      />
      <div className="param-doc">the submodule's attribute name: every key under it starts with it</div>
      {error && (
        <div className="param-error" role="alert" data-testid="group-name-field-error">
          {error}
        </div>
      )}
    </div>
  );
}

function RepeatField({ id, repeat }: { id: string; repeat: number | undefined }) {
  // no revert on blur: an out-of-range count stays in view, with its error, until it is fixed
  const { text, error, change } = useDraftText(
    repeat === undefined ? '' : String(repeat),
    (t) => {
      const r = parseRepeat(t);
      return r.ok ? null : r.message;
    },
    (t) => {
      const r = parseRepeat(t);
      if (r.ok) run(actionSetGroupRepeat, { id, repeat: r.value });
    },
  );
  const prefixes = useStore((s) => copyPrefixes(s.groups, id).join(', '));
  return (
    <div className={`param-field${error ? ' has-error' : ''}`}>
      <div className="param-label">
        <label className="param-name" htmlFor="group-inspector-repeat">
          Repeat
        </label>
      </div>
      <input
        id="group-inspector-repeat"
        data-testid="group-repeat"
        type="text"
        inputMode="numeric"
        placeholder="none"
        className={error ? 'invalid' : ''}
        aria-invalid={!!error}
        value={text}
        onChange={(e) => change(e.target.value)}
      />
      <div className="param-doc" data-testid="group-copies">
        {prefixes ? `an nn.Sequential of copies, each with its own weights: ${prefixes}` : 'empty: a plain submodule; N (1–64): N chained copies, like a ResNet stage'}
      </div>
      {error && (
        <div className="param-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

export function GroupInspector({ id }: { id: string }) {
  const group = useStore((s) => s.groups.find((g) => g.id === id));
  const path = useStore((s) => groupPath(s.groups, id));
  const count = useStore((s) => memberIds(s.nodes, s.groups, id).length);
  const info = useStore((s) => s.analysis?.groups[id]);
  if (!group) return null;
  return (
    <div className="inspector-body" data-testid="group-inspector">
      <div className="inspector-head g-structure">
        <span className="swatch" />
        <div>
          <div className="panel-title">{group.repeat !== undefined ? `Sequential ×${group.repeat}` : 'Module'}</div>
          <div className="muted small" data-testid="group-path">
            {path} · {count} layer{count === 1 ? '' : 's'}
          </div>
        </div>
      </div>
      <div className="facts">
        <div>
          <span className="muted">in → out</span> <code data-testid="group-inspector-shapes">{info ? `${fmtShape(info.inShape)} → ${fmtShape(info.outShape)}` : '?'}</code>
        </div>
        <div>
          <span className="muted">params</span> <code data-testid="group-inspector-params">{info ? fmtCount(info.paramCount) : '?'}</code>
        </div>
      </div>
      <div className="form">
        <GroupNameField id={id} name={group.name} parent={group.parent} />
        <RepeatField id={id} repeat={group.repeat} />
      </div>
      <div className="button-row">
        <button data-testid="btn-toggle-group" onClick={() => run(actionToggleGroup, { id })}>
          {group.collapsed ? 'Expand' : 'Collapse'}
        </button>
        <button data-testid="btn-ungroup" title="Dissolve the group, keeping its layers (Ctrl+Shift+G)" onClick={() => run(actionUngroup, { id })}>
          Ungroup
        </button>
      </div>
    </div>
  );
}
