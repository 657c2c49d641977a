import { fmtShape, type GraphChange } from '../state/graph';
import { register } from './registry';

export interface UseDatasetArg {
  /** the project's training.dataset value, e.g. "mnist" */
  name: string;
  /** torchvision's class name, for the toast */
  title: string;
  /** one sample's shape (CHW): the Input node's `shape` */
  sampleShape: number[];
}

/**
 * Trains on a dataset: sets the project's training.dataset and the Input node's shape to the dataset's
 * sample shape, as one undo step. The Training panel's own dataset choice gives way to the project's.
 */
export const actionUseDataset = register<UseDatasetArg>({
  name: 'useDataset',
  label: 'Use this dataset',
  category: 'Train',
  perform(ctx, { name, title, sampleShape }) {
    const s = ctx.state();
    const changes: GraphChange[] = [];
    const inputs = s.nodes.filter((n) => n.data.type === 'Input');
    for (const n of inputs) {
      const before = n.data.params;
      if (JSON.stringify(before.shape) === JSON.stringify(sampleShape)) continue;
      changes.push({ kind: 'updateNode', id: n.id, before: { params: before }, after: { params: { ...before, shape: [...sampleShape] } } });
    }
    const training = s.project.training;
    if (training?.dataset !== name) changes.push({ kind: 'setTraining', before: training, after: { ...(training ?? {}), dataset: name } });
    s.setTrainSettings({ dataset: null });
    if (changes.length === 0) {
      s.toast({ kind: 'info', message: `The project already trains on ${title} (input ${fmtShape(sampleShape)}).` });
      return;
    }
    s.commit(changes, `Use ${title}`);
    const shapeNote = inputs.length === 0 ? 'no Input node to shape' : `input ${fmtShape(sampleShape)}`;
    s.toast({ kind: 'success', message: `Training on ${title} (${shapeNote}).` });
  },
});
