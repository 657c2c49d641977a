/**
 * The dataset chooser's pure logic: what the forms' text means, the training.dataset documents they
 * make (engine/graph/document.ts ImageFolderDatasetSchema, CsvDatasetSchema), and the CSV table's
 * rules (which column is the label by default, which columns can be features and why not).
 */
import type { CsvPreviewDto } from '../../engine/contract/api';

/** A validation share: above 0 and below 1; null when the text is not one. */
export function parseFraction(text: string): number | null {
  const v = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(v) && v > 0 && v < 1 ? v : null;
}

/** Height and width for resizing (whole numbers 1..4096, as the engine allows); null when not. */
export function parseSize(h: string, w: string): [number, number] | null {
  const ok = (t: string) => /^\d+$/.test(t.trim()) && Number(t) >= 1 && Number(t) <= 4096;
  return ok(h) && ok(w) ? [Number(h), Number(w)] : null;
}

/** {type: 'image-folder', ...}, or null while the form is incomplete. `size` undefined: keep the images' size. */
export function imageFolderDoc(f: { path: string; size: [number, number] | null | undefined; mode: 'grey' | 'rgb'; fraction: string }): Record<string, unknown> | null {
  const fraction = parseFraction(f.fraction);
  if (!f.path.trim() || fraction === null || f.size === null) return null;
  return { type: 'image-folder', path: f.path.trim(), ...(f.size ? { size: f.size } : {}), mode: f.mode, validation_fraction: fraction };
}

type Column = CsvPreviewDto['columns'][number];

/** The label a CSV table starts with: the last column (the usual place of the target, as in iris.csv). */
export function guessLabel(p: CsvPreviewDto): string | null {
  return p.columns.at(-1)?.name ?? null;
}

/** Whether a column can be ticked as a feature, and why not. */
export function csvFeatureChoice(c: Column, label: string | null): { enabled: boolean; reason: string | null } {
  if (c.name === label) return { enabled: false, reason: `${c.name} is the label: the model must not see the answer` };
  if (!c.numeric) return { enabled: false, reason: `not numeric: ${c.reason ?? 'it holds text'}` };
  return { enabled: true, reason: null };
}

/** {type: 'csv', ...}, or null while the choice is incomplete (no label, no feature, a bad fraction). */
export function csvDatasetDoc(f: {
  path: string;
  label: string | null;
  features: string[];
  task: 'classification' | 'regression';
  standardize: boolean;
  fraction: string;
  header: boolean;
  delimiter: ',' | ';' | '\t';
}): Record<string, unknown> | null {
  const fraction = parseFraction(f.fraction);
  if (!f.path || f.label === null || f.features.length === 0 || f.features.includes(f.label) || fraction === null) return null;
  return {
    type: 'csv',
    path: f.path,
    label: f.label,
    features: [...f.features],
    task: f.task,
    standardize: f.standardize,
    validation_fraction: fraction,
    delimiter: f.delimiter,
    header: f.header,
  };
}
