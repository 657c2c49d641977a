/**
 * The training settings' device select: Auto / CPU / each GPU by name, enabled when the engine's probe
 * found a GPU; otherwise disabled, with the probe's reason as its tooltip (there is nothing to choose).
 * A project that asks for a GPU this machine lacks keeps the select enabled, so its inline error can be
 * fixed here; its value then shows as an option of its own, marked unavailable.
 */
import type { DevicesDto } from '../../engine/contract/api';
import { actionSetTraining } from '../actions/actionSetTraining';
import { run } from '../actions/registry';
import { useStore } from '../state/store';
import { valueAt, withValue } from '../state/training';
import { Field } from './SettingField';

export interface DeviceOption {
  value: string;
  label: string;
  disabled?: boolean;
}

/** "CPU (AMD EPYC, avx512, 2 threads)" */
const cpuText = (d: DevicesDto) => `CPU (${d.cpu.model}, ${d.cpu.simd}, ${d.cpu.threads} thread${d.cpu.threads === 1 ? '' : 's'})`;
/** "cuda:0 — NVIDIA H100 80GB HBM3 (79.1 GiB free)" */
const gpuText = (g: DevicesDto['cuda']['devices'][number]) => `cuda:${g.index} — ${g.name} (${(g.freeBytes / 2 ** 30).toFixed(1)} GiB free)`;

/** The select's options for the probe's answer and the project's value (pure, for the unit tests). */
export function deviceOptions(devices: DevicesDto | null, value: string): DeviceOption[] {
  const gpus = devices?.cuda.devices ?? [];
  const options: DeviceOption[] = [
    { value: 'auto', label: gpus.length ? `Auto (cuda:${gpus[0].index}, ${gpus[0].name})` : 'Auto (CPU)' },
    { value: 'cpu', label: devices ? cpuText(devices) : 'CPU' },
    ...gpus.map((g) => ({ value: `cuda:${g.index}`, label: gpuText(g) })),
  ];
  // 'cuda' is cuda:0 when there is one; a GPU the machine lacks stays visible (and unselectable) so the value shows
  const shown = value === 'cuda' && gpus.some((g) => g.index === 0) ? 'cuda:0' : value;
  if (!options.some((o) => o.value === shown)) options.push({ value, label: `${value} — not on this machine`, disabled: true });
  return options;
}

export function DeviceField({ disabled, error }: { disabled: boolean; error?: string }) {
  const devices = useStore((s) => s.devices);
  const value = useStore((s) => String(valueAt(s.project.training, ['device'])));
  const options = deviceOptions(devices, value);
  const gpu = (devices?.cuda.devices.length ?? 0) > 0;
  const selected = value === 'cuda' && gpu ? 'cuda:0' : value;
  // without a GPU there is nothing to choose, unless the project asks for one (then auto or cpu fixes it)
  const locked = !gpu && (value === 'auto' || value === 'cpu');
  const reason = devices && !gpu ? `No GPU: ${devices.cuda.reason ?? 'no CUDA device found'}` : undefined;
  return (
    <Field label="device" title={reason} error={error} errorTestId="train-device-error">
      <select data-testid="train-device" disabled={disabled || locked} title={reason} value={selected}
        onChange={(e) => run(actionSetTraining, { after: withValue(useStore.getState().project.training, ['device'], e.target.value), label: 'Set device' })}>
        {options.map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}
