import { fmtShape, type GraphChange } from '../state/graph';
import { register } from './registry';
import { sameJson } from '../state/sameJson';

export interface UseDatasetArg {
  /** the project's training.dataset value: a built-in's name ("mnist") or a description ({type: 'csv', ...}) */
  dataset: unknown;
  /** for the toast, e.g. "MNIST" */
  title: string;
  /** one sample's shape (CHW, or [features] for a CSV): the Input node's `shape`; null leaves it as it is */
  sampleShape: number[] | null;
}


/**
 * Trains on a dataset: sets the project's training.dataset and, when the dataset's sample shape is
 * known, the Input node's shape, as one undo step.
 */
export const actionUseDataset = register<UseDatasetArg>({
  name: 'useDataset',
  label: 'Use this dataset',
  category: 'Train',
  perform(ctx, { dataset, title, sampleShape }) {
    const s = ctx.state();
    const changes: GraphChange[] = [];
    const inputs = s.nodes.filter((n) => n.data.type === 'Input');
    if (sampleShape)
      for (const n of inputs) {
        const before = n.data.params;
        if (sameJson(before.shape, sampleShape)) continue;
        changes.push({ kind: 'updateNode', id: n.id, before: { params: before }, after: { params: { ...before, shape: [...sampleShape] } } });
      }
    const training = s.project.training;
    if (!sameJson(training?.dataset, dataset)) changes.push({ kind: 'setTraining', before: training, after: { ...(training ?? {}), dataset } });
    const shapeNote = !sampleShape ? 'the Input shape is unchanged' : inputs.length === 0 ? 'no Input node to shape' : `input ${fmtShape(sampleShape)}`;
    if (changes.length === 0) {
      s.toast({ kind: 'info', message: `The project already trains on ${title} (${shapeNote}).` });
      return;
    }
    s.commit(changes, `Use ${title}`);
    s.toast({ kind: 'success', message: `Training on ${title} (${shapeNote}).` });
  },
});
