/**
 * The inspector: the selected layer's name (its state-dict prefix) and a form generated from
 * the layer's paramsSchema, PyTorch names verbatim, each with its one-line doc; the node's
 * problems with their fixes. With nothing selected: the project and the graph's problems.
 */
import { useId, useMemo } from 'react';
import type { IssueDto } from '../../engine/contract/api';
import { actionApplyFix } from '../actions/actionApplyFix';
import { actionRenameNode, nameProblem } from '../actions/actionRenameNode';
import { run } from '../actions/registry';
import { fixLabel, groupClass } from '../canvas/LayerNode';
import { fmtCount, fmtShape } from '../state/graph';
import { selectSelectedCount, selectSingleSelectedId, useStore } from '../state/store';
import { ParamField } from './ParamField';
import { GroupInspector, GroupButton, FullPath } from './GroupInspector';
import { fullName } from '../state/groups';
import { fieldSpecs } from './paramSchema';
import { useDraftText } from '../hooks/useDraftText';

const EMPTY: IssueDto[] = [];

export function Inspector() {
  const id = useStore(selectSingleSelectedId);
  const count = useStore(selectSelectedCount);
  const group = useStore((s) => s.selectedGroup);
  return (
    <aside className="inspector panel" data-testid="inspector">
      {group ? <GroupInspector key={group} id={group} /> : id ? <NodeInspector key={id} id={id} /> : count > 1 ? <MultiSelection count={count} /> : <ProjectInspector />}
    </aside>
  );
}

function MultiSelection({ count }: { count: number }) {
  return (
    <div className="inspector-body">
      <div className="panel-title">{count} layers selected</div>
      <p className="muted">
        Move them together, copy (<kbd>Ctrl</kbd>+<kbd>C</kbd>), duplicate (<kbd>Ctrl</kbd>+<kbd>D</kbd>) or delete (<kbd>Del</kbd>). Select one
        layer to edit its parameters.
      </p>
      <GroupButton />
    </div>
  );
}

function NameField({ id, name, hasParams, group }: { id: string; name: string; hasParams: boolean; group?: string }) {
  // in a group the name is relative: the keys start with the group's path (copy 0's for a repeat)
  const keyPrefix = useStore((s) => (group ? fullName(s.groups, group, '') : ''));
  // names are unique within their group (the group's path sets them apart from the rest)
  const { text, error, change, revert } = useDraftText(
    name,
    (t) => nameProblem(t, id, useStore.getState().nodes.filter((n) => n.data.group === group).map((n) => ({ id: n.id, name: n.data.name }))),
    (t) => run(actionRenameNode, { id, name: t }),
  );
  const uid = useId();
  return (
    <div className={`param-field${error ? ' has-error' : ''}`}>
      <div className="param-label">
        <label className="param-name" htmlFor={`${uid}-name`}>
          name
        </label>
      </div>
      <input
        id={`${uid}-name`}
        aria-describedby={error ? `${uid}-doc ${uid}-error` : `${uid}-doc`}
        type="text"
        spellCheck={false}
        data-testid="node-name"
        className={error ? 'invalid' : ''}
        aria-invalid={!!error}
        value={text}
        onChange={(e) => change(e.target.value)}
        onBlur={revert}
      />
      <div className="param-doc" id={`${uid}-doc`}>
        {hasParams ? (
          <>
            state-dict keys: <code>{keyPrefix}{text || '…'}.weight</code>, …
          </>
        ) : (
          'the module name: it prefixes this layer\'s state-dict keys (name.weight, name.bias)'
        )}
      </div>
      {error && (
        <div className="param-error" id={`${uid}-error`} data-testid="node-name-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

/** Which issue text belongs to which parameter: bad-param messages name it; shape fixes name it. */
function paramErrors(issues: IssueDto[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    const m = i.code === 'bad-param' ? i.message.match(/: ([A-Za-z_][A-Za-z0-9_]*)(?:\.\d+)*: (.*)$/) : null;
    if (m) out[m[1]] ??= m[2];
    else if (i.fix) out[i.fix.param] ??= i.message.replace(/^[A-Za-z0-9]+ at node [^:]+: /, '');
  }
  return out;
}

function NodeInspector({ id }: { id: string }) {
  const data = useStore((s) => s.nodes.find((n) => n.id === id)?.data);
  const layer = useStore((s) => (data ? s.catalogByType[data.type] : undefined));
  const info = useStore((s) => s.analysis?.nodes[id]);
  const issues = useStore((s) => s.analysis?.issuesByNode[id] ?? EMPTY);
  const fields = useMemo(() => (layer ? fieldSpecs(layer.paramsSchema) : []), [layer]);
  const errors = useMemo(() => paramErrors(issues), [issues]);
  if (!data) return null;
  return (
    <div className="inspector-body">
      <div className={`inspector-head ${groupClass(layer?.group)}`}>
        <span className="swatch" />
        <div>
          <div className="panel-title">{data.type}</div>
          <div className="muted small">{layer?.group ?? 'unknown layer type'}</div>
        </div>
      </div>
      {layer && <p className="layer-doc">{layer.doc}</p>}
      <div className="facts">
        <div>
          <span className="muted">output</span> <code data-testid="inspector-shape">{info ? fmtShape(info.outShape) : '?'}</code>
        </div>
        <div>
          <span className="muted">params</span> <code data-testid="inspector-params">{info ? fmtCount(info.paramCount) : '?'}</code>
        </div>
      </div>
      {issues.length > 0 && (
        <div className="issue-list">
          {issues.map((i, k) => (
            <div key={k} className="issue-card" data-testid="inspector-issue">
              <div className="issue-message">{i.message}</div>
              <div className="issue-hint">{i.hint}</div>
              {i.fix && (
                <button className="btn-fix" data-testid="inspector-fix" onClick={() => run(actionApplyFix, i)}>
                  {fixLabel(i.fix)}
                </button>
              )}
            </div>
          ))}
        </div>
      )}
      <div className="form">
        <NameField id={id} name={data.name} hasParams={(info?.paramCount ?? 0) > 0} group={data.group} />
        {data.group && <FullPath group={data.group} name={data.name} />}
        {fields.length === 0 && <p className="muted small">{data.type} has no parameters.</p>}
        {fields.map((f) => (
          <ParamField
            key={f.name}
            nodeId={id}
            spec={f}
            doc={layer?.paramDocs[f.name]}
            value={data.params[f.name]}
            resolved={info?.resolved[f.name]}
            engineError={errors[f.name]}
          />
        ))}
      </div>
    </div>
  );
}

function ProjectInspector() {
  const project = useStore((s) => s.project);
  const graphIssues = useStore((s) => s.analysis?.graphIssues ?? EMPTY);
  const allIssues = useStore((s) => s.analysis?.issues.length ?? 0);
  const nodeCount = useStore((s) => s.nodes.length);
  return (
    <div className="inspector-body">
      <div className="panel-title">{project.name}</div>
      <div className="muted small path" title={project.path ?? undefined}>
        {project.path ?? 'not saved yet'}
      </div>
      <div className="facts">
        <div>
          <span className="muted">layers</span> <code>{nodeCount}</code>
        </div>
        <div>
          <span className="muted">problems</span> <code data-testid="problem-count">{nodeCount ? allIssues : 0}</code>
        </div>
      </div>
      {graphIssues.length > 0 && nodeCount > 0 && (
        <div className="issue-list">
          {graphIssues.map((i, k) => (
            <div key={k} className="issue-card">
              <div className="issue-message">{i.message}</div>
              <div className="issue-hint">{i.hint}</div>
            </div>
          ))}
        </div>
      )}
      <p className="muted small">Select a layer to edit its parameters. Press <kbd>?</kbd> for shortcuts.</p>
    </div>
  );
}
