/**
 * What the Training panel needs from the engine besides the project: the optimizer and scheduler
 * forms (trainingSchema, once per connection), the machine's devices (once), and the engine's
 * check of the current training section (checkTraining, debounced: 150 ms after the last edit).
 * Results go to the store; Start reads the check through settingsBlock (actions/actionTrain.ts).
 */
import { useEffect } from 'react';
import { trainingCheckKey } from '../actions/actionTrain';
import { reportError } from '../actions/registry';
import { useStore } from '../state/store';

const CHECK_DELAY_MS = 150;

export function useTrainingMeta(): void {
  const api = useStore((s) => s.api);
  const open = useStore((s) => s.connection.status === 'open');
  const key = useStore(trainingCheckKey);

  useEffect(() => {
    if (!api || !open) return;
    const s = useStore.getState();
    if (!s.trainingForms) api.trainingSchema({}).then((forms) => useStore.setState({ trainingForms: forms }), (e) => reportError(e, 'Loading the optimizer forms'));
    if (!s.devices) api.devices({}).then((devices) => useStore.setState({ devices }), (e) => reportError(e, 'Listing devices'));
  }, [api, open]);

  useEffect(() => {
    if (!api || !open) return;
    let live = true;
    const timer = setTimeout(() => {
      const s = useStore.getState();
      const limit = s.trainSettings.limitTrain;
      api
        .checkTraining({ training: s.project.training ?? {}, ...(limit !== null ? { trainSamples: limit } : {}) })
        .then((r) => live && useStore.setState({ trainingCheck: { key, issues: r.issues, warnings: r.warnings } }))
        .catch((e) => live && reportError(e, 'Checking the training settings'));
    }, CHECK_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, open, key]);
}
