/**
 * The desktop window's close request (app.command 'close-request'; the main process sends it only while
 * AppState says dirty or a run is active, and closes only once closeWindow is called):
 *
 *   1. unsaved work: the recovery file is written now (the autosave would otherwise be up to 4 s old), so a
 *      close forced during the questions below (logout, shutdown, a crash) loses nothing;
 *   2. a run training or paused: "Stop training and close?" — Cancel keeps everything as it was; Stop
 *      stops it (after the current batch) and waits until its record is in the project's runs, which makes
 *      the project dirty, so the next question sees it;
 *   3. unsaved work: Save / Don't save / Cancel. Save writes the project (Save as for an untitled one:
 *      cancelling that picker cancels the close) and clears the recovery file, as every save does. Don't
 *      save means discard: the recovery file is cleared too, so the next start does not offer back what the
 *      user just chose to throw away. Cancel keeps the work open (and the recovery file, as the autosave would);
 *   4. closeWindow; every way of keeping the window (Cancel, a cancelled picker, an error) answers
 *      closeWindow {cancel: true}, so a quit that was waiting for this window is called off too.
 * A failing step (a save error) becomes a toast and cancels the close: the window never closes on work that
 * was meant to be saved and was not.
 */
import { selectTraining, selectUnsavedWork } from '../state/store';
import { askChoice } from '../dialogs/askChoice';
import { keepRun } from '../hooks/useRunEvents';
import { actionTrainStop } from './actionTrain';
import { chooseAndSave } from './hostDialogs';
import { saveTo } from './projectOps';
import type { ActionContext } from './types';

let closing = false;

/** Writes the recovery file now (a failure only logs: the questions still come). Called when there is unsaved work
 *  (which may be a saved project emptied: the recovery file then holds the empty graph, as a save would). */
async function flushRecovery(ctx: ActionContext): Promise<void> {
  const s = ctx.state();
  await ctx.api.writeRecovery({ project: s.toProject(), path: s.project.path }).catch((e: unknown) => console.warn('recovery flush failed', e));
}

/** Stops the app's run and waits until its record is in the project. */
async function stopRun(ctx: ActionContext): Promise<void> {
  if (!actionTrainStop.predicate || actionTrainStop.predicate(ctx)) await actionTrainStop.perform(ctx, undefined);
  const runId = ctx.state().run.runId;
  if (runId) await keepRun(runId);
}

/** Runs the close flow; resolves once the window was told to close, or the user kept it open. */
export async function closeRequest(ctx: ActionContext): Promise<void> {
  if (closing) return; // asked again while the questions are up (a second click on ×)
  closing = true;
  let close = false;
  try {
    if (selectUnsavedWork(ctx.state())) await flushRecovery(ctx);

    if (selectTraining(ctx.state())) {
      const state = ctx.state().run.state === 'paused' ? 'paused' : 'training';
      const answer = await askChoice({
        title: 'Stop training and close?',
        message: `A run is ${state}. Closing stops it; the epochs it has finished are kept in the project's runs. Its weights are kept only if you save a checkpoint first (Cancel, then Save checkpoint…).`,
        confirmLabel: 'Stop and close',
      });
      if (answer !== 'confirm') return;
      await stopRun(ctx);
    }

    if (selectUnsavedWork(ctx.state())) {
      await flushRecovery(ctx); // the stopped run's record, too
      const s = ctx.state();
      const answer = await askChoice({
        title: 'Save changes before closing?',
        message: `"${s.project.name}" has changes that are not saved.`,
        confirmLabel: s.project.path ? 'Save' : 'Save as…',
        safe: true,
        discardLabel: "Don't save",
      });
      if (answer === 'cancel') return;
      if (answer === 'confirm') {
        const path = ctx.state().project.path;
        if (path) await saveTo(ctx, path, { overwrite: true }); // the project's own file
        else if (!(await chooseAndSave(ctx))) return;
      } else await ctx.api.clearRecovery({}).catch(() => {});
    }

    close = true;
  } catch (e) {
    ctx.reportError(e, 'Closing the window');
  } finally {
    closing = false;
    // every way out answers, the early returns (Cancel) included
    await ctx.api.closeWindow(close ? {} : { cancel: true }).catch((e: unknown) => ctx.reportError(e, 'Closing the window'));
  }
}
