/**
 * One parameter of the selected layer, generated from its JSON Schema: a number/pair/list text
 * box, a checkbox, or a select, with toggles for "auto", "none" and string modes like "same".
 * What the user types stays in the box while it does not parse; the message shows inline.
 */
import { useEffect, useId, useState } from 'react';
import { actionSetParam } from '../actions/actionSetParam';
import { run } from '../actions/registry';
import { formatValue, hasTextValue, parseText, placeholder, type FieldSpec } from './paramSchema';
import { sameJson } from '../state/sameJson';

export interface ParamFieldProps {
  nodeId: string;
  spec: FieldSpec;
  doc?: string;
  /** the value as the user set it (undefined: not set, the default applies) */
  value: unknown;
  /** the value after defaults and "auto" resolution, from the analysis */
  resolved: unknown;
  /** problems the engine reports for this parameter */
  engineError?: string;
}


export function ParamField({ nodeId, spec, doc, value, resolved, engineError }: ParamFieldProps) {
  const effective = value === undefined ? spec.default : value;
  const isSet = value !== undefined;
  // "manual": the user turned a toggle off and has not typed a value yet
  const [manual, setManual] = useState(false);
  const derivedMode: string | null =
    typeof effective === 'string' && spec.consts.includes(effective) ? effective : effective === null && spec.nullable ? 'none' : null;
  const mode = manual ? null : derivedMode;
  const set = (v: unknown) => run(actionSetParam, { id: nodeId, param: spec.name, value: v });

  const [text, setText] = useState(() => (mode ? '' : formatValue(effective)));
  const [localError, setLocalError] = useState<string | null>(null);

  // When the value changes from outside (undo, a fix, another node), show it unless the box
  // already holds text that means the same.
  useEffect(() => {
    setManual(false);
    if (derivedMode) return;
    const p = parseText(text, spec);
    const current = p.ok ? (p.value === undefined ? spec.default : p.value) : undefined;
    if (!p.ok || !sameJson(current, effective)) {
      setText(formatValue(effective));
      setLocalError(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(effective)]);

  const onText = (t: string) => {
    setText(t);
    const p = parseText(t, spec);
    if (!p.ok) {
      setLocalError(p.message);
      return;
    }
    setLocalError(null);
    set(p.value);
  };

  const testId = `param-${spec.name}`;
  // accessible name = the parameter's name, description = its doc (and the error, when there is one);
  // aria-labelledby, so the checkbox's True/False text is not read as its name
  const uid = useId();
  const ids = { control: `${uid}-control`, name: `${uid}-name`, doc: `${uid}-doc`, error: `${uid}-error` };
  const error = localError ?? engineError;
  const a11y = {
    id: ids.control,
    'aria-labelledby': ids.name,
    'aria-describedby': [doc ? ids.doc : '', error ? ids.error : ''].filter(Boolean).join(' ') || undefined,
  };
  const modes = [...(spec.consts.length === 1 && !hasTextValue(spec) && !spec.enumValues ? [] : spec.consts), ...(spec.nullable ? ['none'] : [])];

  let control: React.ReactNode;
  if (spec.boolean && !hasTextValue(spec)) {
    control = (
      <label className="switch">
        <input type="checkbox" {...a11y} data-testid={testId} checked={effective === true} onChange={(e) => set(e.target.checked)} />
        <span>{effective === true ? 'True' : 'False'}</span>
      </label>
    );
  } else if (spec.enumValues || (spec.consts.length > 0 && !hasTextValue(spec) && !spec.nullable)) {
    const options = spec.enumValues ?? spec.consts;
    control = (
      <select {...a11y} data-testid={testId} value={String(effective ?? '')} disabled={options.length < 2} onChange={(e) => set(e.target.value)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    const resolvedText = mode === 'auto' && resolved !== undefined && resolved !== 'auto' ? `auto → ${formatValue(resolved)}` : mode ?? '';
    control = (
      <div className="param-row">
        <input
          type="text"
          inputMode="decimal"
          spellCheck={false}
          {...a11y}
          data-testid={testId}
          className={error ? 'invalid' : ''}
          aria-invalid={!!error}
          value={mode ? '' : text}
          placeholder={mode ? resolvedText : placeholder(spec)}
          disabled={mode !== null}
          onChange={(e) => onText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
          }}
        />
        {modes.map((m) => (
          <button
            key={m}
            type="button"
            className={`mode-toggle${mode === m ? ' on' : ''}`}
            data-testid={`${testId}-${m}`}
            aria-pressed={mode === m}
            aria-label={`${spec.name}: ${m === 'none' ? 'None' : m}`}
            title={mode === m ? `use a value instead of ${m}` : `set ${spec.name} to ${m === 'none' ? 'None' : `"${m}"`}`}
            onClick={() => {
              if (mode === m) {
                // back to a number: the resolved value is the natural starting point
                const start = resolved !== undefined && resolved !== m && resolved !== null ? resolved : undefined;
                const parsed = start !== undefined ? parseText(formatValue(start), spec) : null;
                if (parsed?.ok) {
                  setText(formatValue(start));
                  set(parsed.value);
                } else {
                  setText('');
                  setManual(true);
                }
              } else {
                setLocalError(null);
                set(m === 'none' ? null : m);
              }
            }}
          >
            {m === 'none' ? 'None' : m}
          </button>
        ))}
      </div>
    );
  }

  return (
    <div className={`param-field${error ? ' has-error' : ''}`}>
      <div className="param-label">
        <label className="param-name" id={ids.name} htmlFor={ids.control}>
          {spec.name}
        </label>
        {spec.required && <span className="param-required" title="required">*</span>}
        {!isSet && spec.hasDefault && <span className="param-default">default</span>}
        {isSet && spec.hasDefault && !sameJson(value, spec.default) && (
          <button type="button" className="param-reset" aria-label={`reset ${spec.name}`} title={`reset to the default (${formatValue(spec.default) || 'None'})`} onClick={() => {
            setText(formatValue(spec.default));
            setLocalError(null);
            set(undefined);
          }}>
            reset
          </button>
        )}
      </div>
      {control}
      {doc && (
        <div className="param-doc" id={ids.doc}>
          {doc}
        </div>
      )}
      {error && (
        <div className="param-error" id={ids.error} data-testid={`${testId}-error`} role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
