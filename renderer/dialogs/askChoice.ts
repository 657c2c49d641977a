/**
 * The confirm dialog as a promise, for flows that wait on the user's answer between engine calls
 * (the window's close request: stop the run? then save, discard or cancel?).
 */
import { useStore, type ConfirmDialogSpec } from '../state/store';

export type Choice = 'confirm' | 'discard' | 'cancel';

export type ChoiceQuestion = Omit<ConfirmDialogSpec, 'kind' | 'onConfirm' | 'onDiscard' | 'onCancel'>;

/** Shows the question; resolves with the answer. Another dialog replacing it counts as Cancel. */
export function askChoice(q: ChoiceQuestion): Promise<Choice> {
  return new Promise<Choice>((resolve) => {
    let settled = false;
    const done = (c: Choice) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      resolve(c);
    };
    const spec: ConfirmDialogSpec = { kind: 'confirm', ...q, onConfirm: () => done('confirm'), onDiscard: () => done('discard'), onCancel: () => done('cancel') };
    useStore.getState().setDialog(spec);
    // the question was replaced or closed by something else: nobody will answer it. (An answer also
    // closes the dialog first and then calls its callback, synchronously: that answer comes first.)
    const unsubscribe = useStore.subscribe((s) => {
      if (s.dialog !== spec) queueMicrotask(() => done('cancel'));
    });
  });
}
