/**
 * Edits the project's training section (the Training panel's settings): one undoable setTraining
 * change. Typing into one field merges into one undo step (mergeKey = the field's path).
 */
import type { Training } from '../state/training';
import { register } from './registry';
import { sameJson } from '../state/sameJson';

export interface SetTrainingArg {
  /** the whole training section after the edit */
  after: Training;
  /** the undo entry's label, e.g. "Set momentum" */
  label: string;
  /** edits with the same key in a row (keystrokes in one field) are one undo step */
  mergeKey?: string;
}


export const actionSetTraining = register<SetTrainingArg>({
  name: 'setTraining',
  label: 'Change a training setting',
  category: 'Train',
  perform(ctx, { after, label, mergeKey }) {
    const s = ctx.state();
    const before = s.project.training;
    if (sameJson(before ?? {}, after)) return;
    s.commit([{ kind: 'setTraining', before, after }], label, mergeKey ? { mergeKey: `training:${mergeKey}` } : {});
    // the toolbar's batch size (shapes on the canvas) follows the training batch size
    const bs = after.batch_size;
    if (typeof bs === 'number' && bs !== (before ?? {}).batch_size) s.setBatchSize(bs);
  },
});
