/**
 * The Training panel's settings: the project's training section as a compact form. Every change is
 * an undoable edit of the project (saved with it; `netloom train project.json` uses it), except the
 * training-sample limit, which is a run-only option.
 *
 *   data       dataset (built-ins, or a torchvision folder / image folder / CSV file chosen in a
 *              dialog), loss, epochs, batch size, shuffle, sample limit
 *   optimizer  type and its parameters (torch's names), from the engine's OptimizerSchema
 *   scheduler  none or an lr_scheduler type and its parameters, from SchedulerSchema
 *   more       the remaining optimizer / scheduler parameters, drop_last, seed, clip_grad_norm, device
 *
 * Problems show under the field: text that does not parse at once, the engine's own messages
 * (checkTraining) a moment later. While a run is paused only the optimizer values Resume can change
 * (HyperDto) stay editable; Resume sends those that changed.
 */
import { useEffect, useState } from 'react';
import type { ParamsFormDto } from '../../engine/contract/api';
import { actionSetLoss } from '../actions/actionSetLoss';
import { actionSetTraining } from '../actions/actionSetTraining';
import { run } from '../actions/registry';
import { DatasetDialog } from '../dialogs/DatasetDialog';
import { useTrainingMeta } from '../hooks/useTrainingMeta';
import { useStore } from '../state/store';
import { OPTIMIZERS, OPTIMIZER_TYPES, isOptimizerType, optimizerTypeOf, type OptimizerFlag } from '../../engine/contract/optimizers';
import {
  isHyperField,
  issuesByPath,
  lossChoices,
  optimizerDefault,
  optimizerOf,
  valueAt,
  withOptimizerType,
  withSchedulerType,
  withValue,
  type TrainingPath,
} from '../state/training';
import { TRAINING_FIELDS, childTypes, defaultInterval, formSpecs } from '../state/trainingForm';
import { DatasetField } from './DatasetField';
import { formatValue, type FieldSpec } from './paramSchema';
import { Field, SettingField } from './SettingField';
import { DeviceField } from './TrainingSettingsDevice';
import '../styles/training-settings.css';

const setTraining = (path: TrainingPath, value: unknown, label: string) =>
  run(actionSetTraining, { after: withValue(useStore.getState().project.training, path, value), label });

/** The panel-only option: use the first N training samples (a quick run); not saved in the project. */
function LimitField({ disabled }: { disabled: boolean }) {
  const value = useStore((s) => s.trainSettings.limitTrain);
  const [text, setText] = useState(value === null ? '' : String(value));
  useEffect(() => setText(value === null ? '' : String(value)), [value]);
  const parse = (t: string): number | null | undefined => {
    if (t.trim() === '') return null;
    const n = Number(t);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const bad = parse(text) === undefined;
  useEffect(() => {
    useStore.getState().setSettingsError('limitTrain', bad ? 'the training-sample limit must be a positive whole number, or empty for all' : null);
  }, [bad]);
  return (
    <Field label="sample limit" title="Train on the first N samples only (a quick run); not saved in the project" error={bad ? 'sample limit: a positive whole number, or empty for all' : null} errorTestId="limit-train-error">
      <span className="setting-input">
        <input
          type="text"
          inputMode="numeric"
          data-testid="limit-train"
          disabled={disabled}
          className={`int${bad ? ' invalid' : ''}`}
          value={text}
          placeholder="all"
          onChange={(e) => {
            setText(e.target.value);
            const v = parse(e.target.value);
            if (v !== undefined) useStore.getState().setTrainSettings({ limitTrain: v });
          }}
        />
      </span>
    </Field>
  );
}

function LossField({ disabled }: { disabled: boolean }) {
  const catalog = useStore((s) => s.catalog);
  const loss = useStore((s) => s.nodes.find((n) => s.catalogByType[n.data.type]?.isLoss) ?? null);
  const targetConnected = useStore((s) => !!loss && s.edges.some((e) => e.target === loss.id && e.targetHandle === 'target'));
  const dataset = useStore((s) => valueAt(s.project.training, ['dataset']));
  const choices = lossChoices(catalog, loss ? { type: loss.data.type, targetConnected } : null, dataset);
  return (
    <Field label="loss" title={loss ? `the loss node ${loss.data.name}; a new type starts from its defaults` : 'add a loss layer (palette: Loss) to the graph'}>
      <select className="fixed" data-testid="train-loss" disabled={disabled || !loss} value={loss?.data.type ?? ''} onChange={(e) => loss && run(actionSetLoss, { nodeId: loss.id, type: e.target.value })}>
        {!loss && <option value="">no loss node</option>}
        {choices.map((c) => (
          <option key={c.type} value={c.type} disabled={!c.enabled} title={c.reason}>
            {c.type}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** Fields of one optimizer or scheduler form, at `base` (["optimizer"], ["scheduler"], ["scheduler", "schedulers", 0]). */
function FormFields({ specs, base, prefix, errors, busy, paused }: { specs: FieldSpec[]; base: TrainingPath; prefix: string; errors: Record<string, string>; busy: boolean; paused: boolean }) {
  const optType = useStore((s) => optimizerOf(s.project.training).type);
  return (
    <>
      {specs.map((f) => {
        // while paused, what resumeRun can change stays editable
        const live = paused && base.length === 1 && base[0] === 'optimizer' && isHyperField(f.name);
        const testId = base[0] === 'optimizer' && f.name === 'lr' ? 'train-lr' : `${prefix}-${f.name}`;
        return (
          <SettingField
            key={`${base.join('.')}.${f.name}`}
            path={[...base, f.name]}
            spec={f}
            testId={testId}
            disabled={busy && !live}
            highlight={live}
            wide={!!f.list || !!f.pair}
            placeholder={base[0] === 'optimizer' && f.default === undefined ? formatValue(optimizerDefault(optType, f.name)) || undefined : undefined}
            title={live ? 'Resume applies a change from the next step' : undefined}
            engineError={errors[[...base, f.name].join('.')]}
          />
        );
      })}
    </>
  );
}

function OptimizerRow({ forms, more, errors, busy, paused }: { forms: ParamsFormDto[]; more: boolean; errors: Record<string, string>; busy: boolean; paused: boolean }) {
  const type = useStore((s) => optimizerOf(s.project.training).type);
  const specs = formSpecs(forms.find((f) => f.type === type));
  return (
    <div className="train-row" data-testid="train-row-optimizer">
      <Field label="optimizer" title={paused ? 'the optimizer type is fixed for a run; its values can change on resume' : undefined}>
        <select
          data-testid="train-optimizer"
          disabled={busy}
          value={isOptimizerType(type) ? OPTIMIZERS[type].flag : type}
          onChange={(e) => run(actionSetTraining, { after: withOptimizerType(useStore.getState().project.training, optimizerTypeOf(e.target.value as OptimizerFlag)), label: 'Set optimizer' })}
        >
          {OPTIMIZER_TYPES.map((t) => (
            <option key={OPTIMIZERS[t].flag} value={OPTIMIZERS[t].flag}>
              {t}
            </option>
          ))}
        </select>
      </Field>
      <FormFields specs={more ? [...specs.primary, ...specs.more] : specs.primary} base={['optimizer']} prefix="train-opt" errors={errors} busy={busy} paused={paused} />
    </div>
  );
}

function SchedulerRow({ forms, more, errors, busy }: { forms: ParamsFormDto[]; more: boolean; errors: Record<string, string>; busy: boolean }) {
  const scheduler = useStore((s) => valueAt(s.project.training, ['scheduler']) as Record<string, unknown> | null);
  const type = scheduler && typeof scheduler.type === 'string' ? scheduler.type : null;
  const specs = formSpecs(forms.find((f) => f.type === type));
  const children = type === 'SequentialLR' && Array.isArray(scheduler?.schedulers) ? (scheduler!.schedulers as Record<string, unknown>[]) : [];
  const kids = childTypes(forms);
  return (
    <div className="train-row" data-testid="train-row-scheduler">
      <Field label="lr scheduler" error={errors.scheduler} errorTestId="train-scheduler-error">
        <select data-testid="train-scheduler" disabled={busy} value={type ?? ''} onChange={(e) => run(actionSetTraining, { after: withSchedulerType(useStore.getState().project.training, e.target.value || null), label: 'Set lr scheduler' })}>
          <option value="">none (constant lr)</option>
          {forms.map((f) => (
            <option key={f.type} value={f.type}>
              {f.type}
            </option>
          ))}
        </select>
      </Field>
      {type && (
        <>
          <FormFields specs={more ? [...specs.primary, ...specs.more] : specs.primary} base={['scheduler']} prefix="train-sched" errors={errors} busy={busy} paused={false} />
          <Field label="step every" title="scheduler.step() after every epoch, or after every optimizer step (batch)">
            <select data-testid="train-sched-interval" disabled={busy} value={String(scheduler?.interval ?? defaultInterval(type))} onChange={(e) => setTraining(['scheduler', 'interval'], e.target.value, 'Set scheduler interval')}>
              <option value="epoch">epoch</option>
              <option value="step">step</option>
            </select>
          </Field>
        </>
      )}
      {children.map((c, i) => {
        const ctype = String(c.type);
        const cspecs = formSpecs(forms.find((f) => f.type === ctype));
        return (
          <div className="train-subrow" key={i} data-testid={`train-sched-child-${i}`}>
            <span className="muted small">{i + 1}.</span>
            <select
              data-testid={`train-sched-child-${i}-type`}
              disabled={busy}
              value={ctype}
              onChange={(e) => setTraining(['scheduler', 'schedulers', i], withSchedulerType({}, e.target.value).scheduler, 'Set SequentialLR child')}
            >
              {kids.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
            <FormFields specs={more ? [...cspecs.primary, ...cspecs.more] : cspecs.primary} base={['scheduler', 'schedulers', i]} prefix={`train-sched-child-${i}`} errors={errors} busy={busy} paused={false} />
            {children.length > 1 && (
              <button type="button" className="tool small" disabled={busy} title="remove this scheduler (and its milestone)" onClick={() => {
                const s = useStore.getState().project.training;
                const seq = valueAt(s, ['scheduler']) as Record<string, unknown>;
                const ms = Array.isArray(seq.milestones) ? [...(seq.milestones as number[])] : [];
                ms.splice(Math.max(0, i - 1), 1);
                run(actionSetTraining, { after: withValue(s, ['scheduler'], { ...seq, schedulers: children.filter((_, k) => k !== i), milestones: ms }), label: 'Remove SequentialLR child' });
              }}>
                ×
              </button>
            )}
          </div>
        );
      })}
      {type === 'SequentialLR' && (
        <button type="button" className="tool small" data-testid="train-sched-child-add" disabled={busy} onClick={() => {
          const s = useStore.getState().project.training;
          const seq = valueAt(s, ['scheduler']) as Record<string, unknown>;
          const ms = Array.isArray(seq.milestones) ? (seq.milestones as number[]) : [];
          const next = (ms.at(-1) ?? 0) + 1;
          run(actionSetTraining, { after: withValue(s, ['scheduler'], { ...seq, schedulers: [...children, withSchedulerType({}, 'ExponentialLR').scheduler], milestones: [...ms, next] }), label: 'Add SequentialLR child' });
        }}>
          + scheduler
        </button>
      )}
    </div>
  );
}

export function TrainingSettings({ disabled, paused }: { disabled: boolean; paused: boolean }) {
  useTrainingMeta();
  const forms = useStore((s) => s.trainingForms);
  const check = useStore((s) => s.trainingCheck);
  const dialog = useStore((s) => (s.dialog?.kind === 'dataset' ? s.dialog.mode : null));
  const [moreChosen, setMore] = useState(false);
  const settingsErrors = useStore((s) => s.settingsErrors);
  const optType = useStore((s) => optimizerOf(s.project.training).type);
  const schedType = useStore((s) => String((valueAt(s.project.training, ['scheduler']) as { type?: unknown } | null)?.type ?? ''));
  const shuffle = useStore((s) => valueAt(s.project.training, ['shuffle']) === true);
  const dropLast = useStore((s) => valueAt(s.project.training, ['drop_last']) === true);
  const errors = issuesByPath(check?.issues ?? []);
  const busy = disabled;
  // engine issues that no field shows (e.g. in the dataset description) go on a line of their own
  const shown = (k: string) => k === 'scheduler' || k === 'device' || /^(epochs|batch_size|seed|clip_grad_norm|shuffle|drop_last)$/.test(k) || k.startsWith('optimizer.') || k.startsWith('scheduler.');
  const other = (check?.issues ?? []).filter((i) => !shown(i.path.join('.')));
  // a problem in a field behind "more" opens it, so the message is seen where it belongs
  const primary = new Set([
    'epochs', 'batch_size', 'limitTrain', 'scheduler', 'scheduler.interval', 'scheduler.milestones',
    ...(forms?.optimizers.find((f) => f.type === optType)?.primary ?? []).map((n) => `optimizer.${n}`),
    ...(forms?.schedulers.find((f) => f.type === schedType)?.primary ?? []).map((n) => `scheduler.${n}`),
  ]);
  const hidden = [...Object.keys(settingsErrors), ...Object.keys(errors)].some((k) => shown(k) && !primary.has(k));
  const more = moreChosen || hidden;
  return (
    <fieldset className="train-settings" data-testid="train-settings">
      <div className="train-row">
        <DatasetField disabled={busy} />
        <LossField disabled={busy} />
        <SettingField path={['epochs']} spec={TRAINING_FIELDS.epochs} testId="train-epochs" disabled={busy} engineError={errors.epochs} />
        <SettingField path={['batch_size']} spec={TRAINING_FIELDS.batch_size} label="batch size" testId="train-batch-size" disabled={busy} engineError={errors.batch_size} />
        <LimitField disabled={busy} />
      </div>
      {forms ? (
        <>
          <OptimizerRow forms={forms.optimizers} more={more} errors={errors} busy={busy} paused={paused} />
          <SchedulerRow forms={forms.schedulers} more={more} errors={errors} busy={busy} />
        </>
      ) : (
        <div className="muted small">loading the optimizer forms…</div>
      )}
      {more && (
        <div className="train-row" data-testid="train-row-more">
          <Field label="shuffle" title="DataLoader(shuffle=True): a new order every epoch, from the seed">
            <input type="checkbox" data-testid="train-shuffle" disabled={busy} checked={shuffle} onChange={(e) => setTraining(['shuffle'], e.target.checked, 'Set shuffle')} />
          </Field>
          <Field label="drop_last" title="DataLoader(drop_last=True): skip a last, smaller batch">
            <input type="checkbox" data-testid="train-drop-last" disabled={busy} checked={dropLast} onChange={(e) => setTraining(['drop_last'], e.target.checked, 'Set drop_last')} />
          </Field>
          <SettingField path={['seed']} spec={TRAINING_FIELDS.seed} testId="train-seed" disabled={busy} engineError={errors.seed} title="seeds the initial weights, the shuffle order and dropout" />
          <SettingField path={['clip_grad_norm']} spec={TRAINING_FIELDS.clip_grad_norm} testId="train-clip" placeholder="off" disabled={busy} engineError={errors.clip_grad_norm} title="torch.nn.utils.clip_grad_norm_ max_norm before every step; empty = off" />
          <DeviceField disabled={busy} error={errors.device} />
        </div>
      )}
      <div className="train-row train-row-end">
        <button type="button" className="link small" data-testid="train-more" aria-expanded={more} disabled={hidden} onClick={() => setMore(!more)}>
          {more ? 'less ▴' : 'more ▾'}
        </button>
        {check && check.warnings.length > 0 && (
          <span className="train-warnings" data-testid="train-warnings">
            {check.warnings.join('; ')}
          </span>
        )}
        {other.length > 0 && (
          <span className="setting-error" data-testid="train-settings-error">
            {other.map((i) => `${i.path.join('.') || 'training'}: ${i.message}`).join('; ')}
          </span>
        )}
      </div>
      {dialog && <DatasetDialog mode={dialog} />}
    </fieldset>
  );
}
