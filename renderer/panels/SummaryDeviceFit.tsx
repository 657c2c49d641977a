/**
 * The model summary's "will it fit?" line: when the run would train on a GPU (the project's device on
 * this machine), what it takes in the GPU's memory at the summary's batch size and the largest batch that
 * fits (the engine's deviceFit, engine/runtime/gpu-fit.ts). Nothing is shown on the CPU, and nothing is
 * asked of the engine on a machine without a GPU.
 */
import { useEffect, useState } from 'react';
import type { DeviceFitDto } from '../../engine/contract/api';
import { useStore } from '../state/store';

const FIT_DELAY_MS = 300;

export function SummaryDeviceFit() {
  const api = useStore((s) => s.api);
  const gpu = useStore((s) => (s.devices?.cuda.devices.length ?? 0) > 0);
  const analysis = useStore((s) => s.analysis);
  const training = useStore((s) => s.project.training);
  const batch = useStore((s) => s.analysis?.batchSize);
  const [fit, setFit] = useState<DeviceFitDto | null>(null);
  useEffect(() => {
    if (!api || !gpu || !analysis || batch === undefined) return setFit(null);
    let live = true;
    // after the graph settles: each answer compiles the model (twice more to find the largest batch)
    const timer = setTimeout(() => {
      api.deviceFit({ project: useStore.getState().toProject(), batchSize: batch }).then((r) => live && setFit(r), () => live && setFit(null));
    }, FIT_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, gpu, analysis, training, batch]);
  if (!fit || fit.device === 'cpu' || (!fit.fit && !fit.note)) return null;
  return (
    <div className={`summary-fit small pad${fit.fit && !fit.fit.fits ? ' danger' : ''}`} data-testid="summary-fit" data-fits={fit.fit ? String(fit.fit.fits) : ''}>
      <span className="muted">{fit.device} ({fit.name}):</span> {fit.fit ? fit.fit.text : ''}
      {fit.note && <span className="muted"> — {fit.note}</span>}
    </div>
  );
}
