/**
 * Inference playground (in the Training panel): try the current run's weights on one sample of your own and
 * see what the model says (api.predict; the engine answers only when the run is not training). What the sample
 * is follows the run's dataset (useRunDataset; state/playground.ts decides):
 * - a 1-channel image: a pad of the model's input size to draw on, or a PNG/JPEG dropped on it;
 * - a 3-channel image: a PNG/JPEG dropped or chosen, resized to the model's input size (no pad);
 * - a CSV row: a number per feature, a random test row to start from, predictions as you type.
 * Class probabilities show as bars; a regression model's answer as its predicted value.
 * An image dropped anywhere on the window (hooks/useGlobalDrop.ts) waits in the store until the run's dataset
 * is known, then goes to the image playground, or is refused with a toast when the model does not take images.
 */
import { useEffect } from 'react';
import { useStore } from '../state/store';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../../engine/contract/datasets';
import { effectiveSettings } from '../state/training';
import { DEFAULT_INPUT, playgroundInput } from '../state/playground';
import { fmtShape } from '../state/graph';
import { useRunDataset } from '../hooks/useRunDataset';
import { PlaygroundImage } from './PlaygroundImage';
import { PlaygroundTabular } from './PlaygroundTabular';
import '../styles/own-data.css';

export function Playground() {
  const runId = useStore((s) => s.run.runId);
  const state = useStore((s) => s.run.state);
  const evaluation = useStore((s) => s.run.evaluation);
  const projectDataset = useStore((s) => effectiveSettings(s.project.training, s.trainSettings).dataset);
  const runData = useRunDataset();
  const enabled = runId !== null && (state === 'paused' || state === 'finished' || state === 'stopped');
  const info = runData.info;
  const input = info ? playgroundInput(info) : DEFAULT_INPUT;

  // class names: the run's dataset's, else the evaluation's, else the project's built-in's
  const names = info?.classes.length ? info.classes : evaluation?.classNames.length ? evaluation.classNames : (isBuiltinDataset(projectDataset) ? BUILTIN_DATASETS[projectDataset].classes : []);
  const className = (i: number) => names[i] ?? String(i);

  const drop = useStore((s) => s.playgroundDrop);
  const takesImages = !!info && (input?.mode === 'pad' || input?.mode === 'image');
  useEffect(() => {
    if (!drop) return;
    const refuse = (message: string, hint?: string) => {
      useStore.getState().setPlaygroundDrop(null);
      useStore.getState().toast({ kind: 'error', message, hint });
    };
    if (runData.error) refuse(`${drop.file.name} cannot be tried: ${runData.error.message}`, runData.error.hint);
    else if (info && !takesImages)
      refuse(`${drop.file.name} is an image, but this model takes ${input?.mode === 'tabular' ? 'CSV rows' : `samples of shape ${fmtShape(info.sampleShape)}`}.`, 'Type a row into the playground instead, or train an image model.');
  }, [drop, info, takesImages, input?.mode, runData.error]);

  let how = '';
  if (!enabled) how = runId ? 'pause or stop the run to try its weights' : 'train a model first';
  else if (input?.mode === 'pad') how = `draw on the pad or drop a PNG/JPEG on it (${input.height}×${input.width}, grey)`;
  else if (input?.mode === 'image') how = `drop a PNG/JPEG on the square or choose one (resized to ${input.height}×${input.width}, RGB)`;
  else if (input?.mode === 'tabular') how = `type a row's ${input.features.length} feature values, or pick a random test row`;

  return (
    <div className={`playground${enabled ? '' : ' disabled'}`} data-testid="playground" data-mode={input?.mode ?? 'none'}>
      <div className="playground-title">
        Inference playground
        {how && <span className="muted small"> · {how}</span>}
      </div>
      {runData.error && (
        <div className="dialog-error" data-testid="playground-error">
          {runData.error.message}
          {runData.error.hint ? ` ${runData.error.hint}` : ''}
        </div>
      )}
      {!input && info && (
        <div className="muted small" data-testid="playground-unsupported">
          The model's samples are {fmtShape(info.sampleShape)}: the playground takes 1- or 3-channel images and CSV rows.
        </div>
      )}
      {input?.mode === 'tabular' && info?.table && <PlaygroundTabular key={runId} info={info} table={info.table} enabled={enabled} className={className} />}
      {(input?.mode === 'pad' || input?.mode === 'image') && (
        <PlaygroundImage key={`${runId}:${input.mode}:${input.height}x${input.width}`} input={input} enabled={enabled} className={className} dropped={takesImages ? drop : null} />
      )}
    </div>
  );
}
