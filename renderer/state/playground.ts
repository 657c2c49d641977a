/**
 * The inference playground's pure logic: what kind of input a run's model takes (a pad to draw on, an image
 * to drop, a CSV row to type), turning a canvas's RGBA pixels into the model's uint8 CHW sample, and the
 * feature form's parsing. No React, no DOM: tested in test/unit/playground.test.ts.
 */
import type { DatasetInfoDto, TableRowDto } from '../../engine/contract/api';

/**
 * How the playground takes a sample:
 * - pad: a 1-channel image; draw on an h x w pad or drop a picture. `mnistStyle`: the built-in digit/clothing
 *   sets (light ink on black, the picture centred keeping its aspect, dark-on-light pictures inverted).
 *   Otherwise (an image folder) a dropped picture is stretched to h x w as training's Resize((h, w)) does.
 * - image: a 3-channel image (CIFAR-10, an RGB image folder): drop a picture, stretched to h x w; no pad.
 * - tabular: a CSV row, one number per feature.
 */
export type PlaygroundInput =
  | { mode: 'pad'; height: number; width: number; mnistStyle: boolean }
  | { mode: 'image'; height: number; width: number; channels: 3; mnistStyle: false }
  | { mode: 'tabular'; features: string[]; task: 'classification' | 'regression' };

/** The MNIST-like pad every app starts with (no run yet, or a run whose dataset is still being asked about). */
export const DEFAULT_INPUT: PlaygroundInput = { mode: 'pad', height: 28, width: 28, mnistStyle: true };

/** The input the run's dataset calls for; null when its samples are neither a CSV row nor a [1|3, h, w] image. */
export function playgroundInput(info: Pick<DatasetInfoDto, 'kind' | 'sampleShape' | 'table'>): PlaygroundInput | null {
  if (info.kind === 'csv' && info.table) return { mode: 'tabular', features: [...info.table.features], task: info.table.task };
  const [c, h, w] = info.sampleShape;
  if (info.sampleShape.length !== 3 || !(h > 0) || !(w > 0)) return null;
  if (c === 1) return { mode: 'pad', height: h, width: w, mnistStyle: info.kind === 'builtin' };
  if (c === 3) return { mode: 'image', height: h, width: w, channels: 3, mnistStyle: false };
  return null;
}

/** The pad's size on screen: the longer side `view` pixels, the other in proportion. */
export function padView(height: number, width: number, view = 196): { width: number; height: number } {
  const k = view / Math.max(height, width);
  return { width: Math.round(width * k), height: Math.round(height * k) };
}

/** Where a picture of w x h goes on a box: stretched over it (training's Resize((h, w))) or fitted inside, centred. */
export function placeImage(imgW: number, imgH: number, boxW: number, boxH: number, fit: boolean): { x: number; y: number; w: number; h: number } {
  if (!fit) return { x: 0, y: 0, w: boxW, h: boxH };
  const k = Math.min(boxW / imgW, boxH / imgH);
  const w = imgW * k;
  const h = imgH * k;
  return { x: (boxW - w) / 2, y: (boxH - h) / 2, w, h };
}

/** PIL's convert('L') luma, in its 16-bit fixed point (what an image folder's 'grey' mode computes). */
export const pilLuma = (r: number, g: number, b: number): number => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

/**
 * RGBA pixels (a canvas's getImageData) -> uint8 channel-major planes (CHW): R, G, B, or one grey plane (PIL's
 * luma). Alpha is dropped, as PIL's convert('RGB') in torchvision's loader drops it.
 */
export function rgbaToChw(rgba: ArrayLike<number>, channels: 1 | 3): Uint8Array {
  const n = Math.floor(rgba.length / 4);
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const r = rgba[i * 4];
    const g = rgba[i * 4 + 1];
    const b = rgba[i * 4 + 2];
    if (channels === 1) out[i] = pilLuma(r, g, b);
    else {
      out[i] = r;
      out[n + i] = g;
      out[2 * n + i] = b;
    }
  }
  return out;
}

/** A feature field's text as a number: decimal notation (a decimal comma too), finite; null when it is not one. */
export function parseFeature(text: string): number | null {
  const t = text.trim().replace(/^([+-]?\d*),(\d+)$/, '$1.$2');
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** The form's texts as a row: every value, or null with which fields do not parse. */
export function parseFeatureRow(texts: readonly string[]): { values: number[] | null; bad: boolean[] } {
  const parsed = texts.map(parseFeature);
  const bad = parsed.map((v) => v === null);
  return { values: bad.some(Boolean) ? null : (parsed as number[]), bad };
}

/** A value for a feature field or a label: at most 6 significant digits, no trailing zeros. */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(6)));
}

/** A row's label as the user knows it: the class name (classification) or the target value (regression). */
export function rowLabel(classes: readonly string[], task: 'classification' | 'regression', row: TableRowDto): string {
  return task === 'classification' ? (classes[row.label] ?? String(row.label)) : fmtValue(row.label);
}

/** A random row index other than `current` (when there is another), from a uniform `rand` in [0, 1). */
export function pickRow(count: number, current: number | null, rand: number): number | null {
  if (count <= 0) return null;
  if (count === 1 || current === null || current < 0 || current >= count) return Math.min(count - 1, Math.floor(rand * count));
  // draw among the other count - 1 rows, skipping the current one
  const k = Math.min(count - 2, Math.floor(rand * (count - 1)));
  return k >= current ? k + 1 : k;
}
