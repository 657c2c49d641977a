/**
 * Files dropped anywhere on the window (state/drop.ts decides what each is for):
 *   - a PNG/JPEG goes to the inference playground (the Training panel opens) when the app's run can be
 *     tried, else a toast says what to do first; in both hosts;
 *   - in a browser, a project file is read as text and opened as an unsaved project
 *     (state/projectText.ts); a checkpoint or another file gets a toast that says how to open it;
 *   - in the desktop app every non-image drop is left alone: the preload forwards drops the page did
 *     not preventDefault to the main process, which opens projects and checkpoints by their paths.
 *
 * The listeners are on `document`, in the bubbling phase: after the page's own drop targets (the
 * playground's canvas takes its drop and calls preventDefault: skipped here) and before the preload's
 * listener on `window`, which must see the defaultPrevented of the drops handled here.
 */
import { useEffect } from 'react';
import { showProject, guardUnsaved } from '../actions/projectOps';
import { actionContext, reportError } from '../actions/registry';
import { MAX_DROPPED_PROJECT_BYTES, planDrop } from '../state/drop';
import { parseProjectText } from '../state/projectText';
import { useStore, type State } from '../state/store';

const hasFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');

const hostKind = (s: State): 'desktop' | 'browser' => s.host?.kind ?? (s.connection.transport === 'electron' ? 'desktop' : 'browser');

/** An image for the playground: handed over when the run's weights can be tried. */
function dropImage(file: File): void {
  const s = useStore.getState();
  const { runId, state } = s.run;
  if (runId === null) {
    s.toast({ kind: 'info', message: `Train a model first to try ${file.name} on it.`, hint: 'Then drop the image again: it goes to the inference playground in the Training panel.' });
    return;
  }
  if (state !== 'paused' && state !== 'stopped' && state !== 'finished') {
    const why = state === 'failed' ? 'The run failed: its playground is off.' : `The run is ${state ?? 'starting'}: the playground answers between batches only.`;
    s.toast({ kind: 'info', message: why, hint: state === 'failed' ? 'Start a new run, then drop the image again.' : 'Pause or stop the run, then drop the image again.' });
    return;
  }
  s.setPanel('training', true);
  s.setPlaygroundDrop(file);
}

/** A project file in a browser: its text, checked, opened as a new unsaved project. */
async function dropProject(file: File): Promise<void> {
  const s = useStore.getState();
  if (file.size > MAX_DROPPED_PROJECT_BYTES) {
    s.toast({ kind: 'error', message: `${file.name} is ${(file.size / 1048576).toFixed(0)} MiB, too large to be a Netloom project.`, hint: 'Drop the project file (.netloom.json or .netloom), not a dataset.' });
    return;
  }
  const parsed = parseProjectText(await file.text(), file.name);
  if (!parsed.ok) {
    s.toast({ kind: 'error', message: parsed.message, hint: parsed.hint });
    return;
  }
  guardUnsaved(() => {
    const ctx = actionContext();
    if (!ctx) return;
    // unsaved (no path: a browser never learns where the file was), and dirty so closing the tab asks
    showProject(ctx, parsed.project, null, { dirty: true }).then(
      () => useStore.getState().toast({ kind: 'success', message: `Opened ${file.name} as an unsaved project`, hint: 'Save it (Ctrl+S) to choose where it lives on the engine’s machine.' }),
      (e: unknown) => reportError(e, `Opening ${file.name}`),
    );
  }, `Opening ${file.name}`);
}

export function useGlobalDrop(): void {
  useEffect(() => {
    const onDragOver = (e: DragEvent) => {
      if (!hasFiles(e) || e.defaultPrevented) return;
      // files may be dropped anywhere (the drop below decides); without this a browser would open the file itself
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const onDrop = (e: DragEvent) => {
      if (!hasFiles(e) || e.defaultPrevented) return;
      const files = Array.from(e.dataTransfer?.files ?? []);
      const plan = planDrop(files, hostKind(useStore.getState()));
      if (!plan || plan.kind === 'host') return; // the desktop's preload opens it by path
      e.preventDefault();
      const s = useStore.getState();
      switch (plan.kind) {
        case 'image':
          dropImage(files[plan.index]!);
          break;
        case 'project':
          dropProject(files[plan.index]!).catch((err: unknown) => reportError(err, `Opening ${files[plan.index]!.name}`));
          break;
        case 'checkpoint':
          s.setPanel('training', true);
          s.toast({ kind: 'info', message: `A browser cannot tell the engine where ${plan.name} is.`, hint: /\.onnx$/i.test(plan.name) ? 'Use Import › ONNX Model… in the toolbar (or Load checkpoint… in the Training panel for its weights alone) and type the file’s path on the engine’s machine.' : 'Use Load checkpoint… in the Training panel and type the file’s path on the engine’s machine.' });
          break;
        case 'unsupported':
          s.toast({ kind: 'error', message: `Netloom does not open ${plan.name}.`, hint: 'Drop a project (.netloom.json, .netloom), or a PNG/JPEG image to try in the inference playground.' });
          break;
      }
    };
    document.addEventListener('dragover', onDragOver);
    document.addEventListener('drop', onDrop);
    return () => {
      document.removeEventListener('dragover', onDragOver);
      document.removeEventListener('drop', onDrop);
    };
  }, []);
}
