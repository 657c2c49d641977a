/**
 * One training setting at a path of the project's training section ("optimizer.betas"), generated
 * from its FieldSpec (panels/paramSchema.ts): a text box for numbers, pairs and lists (with a toggle
 * for a string mode such as total_steps "auto"), a checkbox for booleans, a select for enums.
 * Text that does not parse stays in the box with the message under it and is recorded in the store
 * (settingsErrors), which keeps Start disabled; the engine's own message for the path (checkTraining)
 * shows the same way. Valid text is committed at once (one undo step per field while typing).
 */
import { useEffect, useState } from 'react';
import { run } from '../actions/registry';
import { actionSetTraining } from '../actions/actionSetTraining';
import { useStore } from '../state/store';
import { valueAt, withValue, type TrainingPath } from '../state/training';
import { formatValue, parseText, placeholder as placeholderFor, type FieldSpec } from './paramSchema';
import { sameJson } from '../state/sameJson';

export interface SettingFieldProps {
  path: TrainingPath;
  spec: FieldSpec;
  testId: string;
  /** shown before the control (default: the parameter's name, as torch spells it) */
  label?: string;
  disabled?: boolean;
  /** editable while everything else is not (a paused run's optimizer values) */
  highlight?: boolean;
  title?: string;
  /** the engine's message for this path */
  engineError?: string;
  /** shown in an empty box, instead of the default */
  placeholder?: string;
  /** wider text box (lists) */
  wide?: boolean;
}


export function SettingField({ path, spec, testId, label, disabled, highlight, title, engineError, placeholder, wide }: SettingFieldProps) {
  const pathKey = path.join('.');
  const value = useStore((s) => valueAt(s.project.training, path));
  const effective = value === undefined ? spec.default : value;
  // manual: the user turned a mode ("auto") off and has not typed a number yet
  const [manual, setManual] = useState(false);
  const mode = !manual && typeof effective === 'string' && spec.consts.includes(effective) ? effective : null;
  const [text, setText] = useState(() => (mode ? '' : formatValue(effective)));
  const [localError, setLocalError] = useState<string | null>(null);

  const commit = (v: unknown) => {
    const s = useStore.getState();
    run(actionSetTraining, { after: withValue(s.project.training, path, v), label: `Set ${spec.name}`, mergeKey: pathKey });
  };
  const setError = (m: string | null) => {
    setLocalError(m);
    useStore.getState().setSettingsError(pathKey, m);
  };

  // a value changed from outside (undo, another control): show it unless the box already means it
  useEffect(() => {
    setManual(false);
    if (typeof effective === 'string' && spec.consts.includes(effective)) return;
    const p = parseText(text, spec);
    const current = p.ok ? (p.value === undefined ? spec.default : p.value) : undefined;
    if (!p.ok || !sameJson(current, effective)) {
      setText(formatValue(effective));
      setError(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(effective)]);

  // a field that goes away (another optimizer type) takes its parse error with it
  useEffect(() => () => useStore.getState().setSettingsError(pathKey, null), [pathKey]);

  const error = localError ?? engineError ?? null;
  let control: React.ReactNode;
  if (spec.boolean && !spec.number && !spec.pair && !spec.list) {
    control = <input type="checkbox" data-testid={testId} disabled={disabled} checked={effective === true} onChange={(e) => commit(e.target.checked)} />;
  } else if (spec.enumValues) {
    control = (
      <select data-testid={testId} disabled={disabled} value={String(effective ?? '')} onChange={(e) => commit(e.target.value)}>
        {spec.enumValues.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    control = (
      <span className="setting-input">
        <input
          type="text"
          inputMode="decimal"
          spellCheck={false}
          data-testid={testId}
          disabled={disabled || mode !== null}
          className={`${error ? 'invalid' : ''}${wide ? ' wide' : spec.number?.integer && !spec.consts.length ? ' int' : ''}`}
          aria-invalid={!!error}
          value={mode ? '' : text}
          placeholder={mode ?? placeholder ?? (spec.default !== undefined && spec.default !== null ? formatValue(spec.default) : placeholderFor(spec))}
          onChange={(e) => {
            setText(e.target.value);
            const p = parseText(e.target.value, spec);
            if (!p.ok) {
              setError(`${spec.name}: ${p.message}`);
              return;
            }
            setError(null);
            setManual(false);
            // an emptied field (undefined) leaves the key out: its default applies (off, for clip_grad_norm)
            commit(p.value);
          }}
        />
        {spec.consts.map((c) => (
          <button
            key={c}
            type="button"
            className={`mode-toggle${mode === c ? ' on' : ''}`}
            data-testid={`${testId}-${c}`}
            disabled={disabled}
            aria-pressed={mode === c}
            title={mode === c ? `use a number instead of "${c}"` : `set ${spec.name} to "${c}"`}
            onClick={() => {
              setError(null);
              if (mode === c) {
                setText('');
                setManual(true);
                setError(`${spec.name}: enter a number or choose "${c}"`);
              } else {
                setManual(false);
                commit(c);
              }
            }}
          >
            {c}
          </button>
        ))}
      </span>
    );
  }
  return (
    <Field label={label ?? spec.name} title={title} highlight={highlight} error={error} errorTestId={`${testId}-error`}>
      {control}
    </Field>
  );
}

/**
 * A labelled control in a settings row. The label and control stay together; a message goes to the
 * end of the row on a line of its own (the label box is `display: contents`, so the message is a
 * full-width item of the row's flex layout), which keeps the fields compact.
 */
export function Field({ label, title, highlight, error, errorTestId, children }: { label: string; title?: string; highlight?: boolean; error?: string | null; errorTestId?: string; children: React.ReactNode }) {
  return (
    <label className={`train-field setting${highlight ? ' editable-now' : ''}${error ? ' has-error' : ''}`}>
      <span className="setting-pair" title={title}>
        <span className="setting-label">{label}</span>
        {children}
      </span>
      {error && (
        <span className="setting-error" data-testid={errorTestId} role="alert">
          {error}
        </span>
      )}
    </label>
  );
}
