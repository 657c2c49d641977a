/**
 * Which built-ins that do not ship with Netloom are on this computer (state/datasetOnDisk.ts): asked once
 * when the engine connects, and again whenever a run ends (its Start may have downloaded one).
 */
import { useEffect, useState } from 'react';
import { BUILTIN_DATASETS, BUILTIN_DATASET_NAMES, type BuiltinDatasetName } from '../../engine/contract/datasets';
import { onDiskFrom, probeRequest, type OnDisk } from '../state/datasetOnDisk';
import { useStore } from '../state/store';

const TO_PROBE = BUILTIN_DATASET_NAMES.filter((n) => !BUILTIN_DATASETS[n].bundled);

export function useDatasetOnDisk(): Partial<Record<BuiltinDatasetName, OnDisk>> {
  const api = useStore((s) => s.api);
  const connected = useStore((s) => s.connection.status === 'open');
  // a run that is not running or starting any more: what it downloaded is on disk now
  const settled = useStore((s) => !s.run.starting && s.run.state !== 'running' && s.run.state !== 'paused');
  const runId = useStore((s) => s.run.runId);
  const [found, setFound] = useState<Partial<Record<BuiltinDatasetName, OnDisk>>>({});
  useEffect(() => {
    if (!api || !connected || !settled) return;
    let live = true;
    for (const name of TO_PROBE)
      api
        .datasetInfo(probeRequest(name))
        .then(() => onDiskFrom({ ok: true }))
        .catch((e: unknown) => onDiskFrom({ ok: false, code: (e as { code?: string }).code }))
        .then((v) => live && setFound((f) => (f[name] === v ? f : { ...f, [name]: v })));
    return () => {
      live = false;
    };
  }, [api, connected, settled, runId]);
  return found;
}
