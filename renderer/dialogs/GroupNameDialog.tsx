/**
 * Group's name question: one nn.Module attribute name (GROUP_NAME_RE), unique among the new group's
 * siblings, checked on every keystroke; OK is disabled while the name is refused, and says why.
 */
import { useState } from 'react';
import { actionGroupAs } from '../actions/actionGroup';
import { run } from '../actions/registry';
import { commonParent, fullName, groupNameProblem, groupPath } from '../state/groups';
import { useStore } from '../state/store';
import { Modal } from './Modal';

export function GroupNameDialog() {
  const d = useStore((s) => s.dialog);
  if (d?.kind !== 'group-name') return null;
  return <GroupNameForm key={d.selected.join(',')} selected={d.selected} suggested={d.suggested} />;
}

function GroupNameForm({ selected, suggested }: { selected: string[]; suggested: string }) {
  const [name, setName] = useState(suggested);
  const s = useStore.getState();
  const picked = s.nodes.filter((n) => selected.includes(n.id));
  const parent = commonParent(s.groups, picked.map((n) => n.data.group));
  const direct = picked.filter((n) => n.data.group === parent).map((n) => n.id);
  const problem = groupNameProblem(name, parent, s.nodes, s.groups, undefined, direct);
  const close = () => useStore.getState().setDialog(null);
  const ok = () => {
    if (problem) return;
    close();
    run(actionGroupAs, { selected, name });
  };
  // the key the first layer will have: its name loses a leading `<name>.` it already had
  const first = picked.find((n) => n.data.group === parent)?.data.name;
  const local = first?.startsWith(`${name}.`) ? first.slice(name.length + 1) : first;
  const example = local ? fullName(s.groups, parent, `${name || '…'}.${local}`) : '';
  return (
    <Modal
      title="Group as a submodule"
      onClose={close}
      testId="group-name-dialog"
      footer={
        <>
          <button data-testid="group-name-cancel" onClick={close}>
            Cancel
          </button>
          <button className="primary" data-testid="group-name-ok" disabled={!!problem} title={problem ?? undefined} onClick={ok}>
            Group
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          ok();
        }}
      >
        <label className="param-name" htmlFor="group-name-input">
          Name ({picked.length} layer{picked.length === 1 ? '' : 's'}{parent ? `, inside ${groupPath(s.groups, parent)}` : ''})
        </label>
        <input
          id="group-name-input"
          data-testid="group-name-input"
          type="text"
          spellCheck={false}
          autoFocus
          className={problem ? 'invalid' : ''}
          aria-invalid={!!problem}
          aria-describedby="group-name-doc"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <p className="param-doc" id="group-name-doc">
          The attribute name of an <code>nn.Module</code>: the state-dict prefix of every layer in it{example ? <> (<code>{example}.weight</code>)</> : null}.
        </p>
        {problem && (
          <p className="param-error" role="alert" data-testid="group-name-error">
            {problem}
          </p>
        )}
      </form>
    </Modal>
  );
}
