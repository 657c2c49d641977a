/**
 * The dataset view's choice: a built-in to look at, or the project's own dataset (a torchvision folder, an image
 * folder, a CSV file), and the datasetInfo request for it. Pure; tested in test/unit/dataset-view.test.ts.
 */
import type { Params } from '../../engine/contract/api';
import { BUILTIN_DATASETS, BUILTIN_DATASET_NAMES, DEFAULT_DATASET, isBuiltinDataset, type BuiltinDatasetName } from '../../engine/contract/datasets';
import { datasetLabel } from './training';

/** A built-in by name, or 'project': the project's training.dataset when it is a description. */
export type ViewChoice = BuiltinDatasetName | 'project';

/** The select's options: the built-ins, then the project's own dataset when it is not a built-in's name. */
export function viewChoices(projectDataset: unknown): { value: ViewChoice; label: string }[] {
  const out: { value: ViewChoice; label: string }[] = BUILTIN_DATASET_NAMES.map((d) => ({ value: d, label: BUILTIN_DATASETS[d].title }));
  if (projectDataset !== undefined && !isBuiltinDataset(projectDataset)) out.push({ value: 'project', label: `this project: ${datasetLabel(projectDataset)}` });
  return out;
}

/** What the view opens on: the project's dataset (a built-in's name, or 'project'); fashion-mnist, the default, when it has none. */
export function defaultChoice(projectDataset: unknown): ViewChoice {
  if (isBuiltinDataset(projectDataset)) return projectDataset;
  return projectDataset === undefined ? DEFAULT_DATASET : 'project';
}

/** datasetInfo's params for a choice: relative paths of the project's dataset resolve against its file (when saved). */
export function infoRequest(choice: ViewChoice, projectDataset: unknown, projectPath: string | null, o: { perClass: number; rows: number; fresh?: boolean }): Params<'datasetInfo'> {
  const common = { perClass: o.perClass, rows: o.rows, ...(o.fresh ? { fresh: true } : {}) };
  if (choice !== 'project') return { name: choice, ...common };
  return { dataset: projectDataset as Params<'datasetInfo'>['dataset'], ...(projectPath ? { path: projectPath } : {}), ...common };
}
