/**
 * Image folders as a training dataset (training.dataset = { type: 'image-folder', ... }): a tiny generated
 * ImageFolder (2 classes x 30 PNGs, 12x12: "top" bright in the top half, "bottom" in the bottom half) trains a
 * linear classifier to >90% on the held-out validation split, which serves as the test split.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseProjectText, TrainingSchema, type ProjectDoc } from '../../engine/graph/document.js';
import { prepareJob } from '../../engine/train/job.js';
import { TrainingRun } from '../../engine/train/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-imgfolder-'));
const ROOT = join(tmp, 'shapes');
const S = 12;

function png(brightTop: boolean, seed: number): Buffer {
  const img = new pngjs.PNG({ width: S, height: S });
  let r = seed * 2654435761 >>> 0;
  const noise = () => ((r = (r * 1664525 + 1013904223) >>> 0) % 60);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const bright = (y < S / 2) === brightTop;
      const v = bright ? 195 + noise() : noise();
      const o = (y * S + x) * 4;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
      img.data[o + 3] = 255;
    }
  return pngjs.PNG.sync.write(img);
}

function project(dataset: unknown, inputShape = [1, S, S]): ProjectDoc {
  const node = (id: string, type: string, params: object, y: number) => ({ id, type, name: id, params, position: { x: 0, y } });
  return parseProjectText(JSON.stringify({
    format: 'netloom-project', version: 1, name: 'image folder test',
    graph: {
      nodes: [
        node('input', 'Input', { shape: inputShape }, 0),
        node('flatten', 'Flatten', {}, 100),
        node('fc', 'Linear', { in_features: 'auto', out_features: 2 }, 200),
        node('loss', 'CrossEntropyLoss', {}, 300),
      ],
      edges: [{ id: 'e1', source: 'input', target: 'flatten' }, { id: 'e2', source: 'flatten', target: 'fc' }, { id: 'e3', source: 'fc', target: 'loss' }],
    },
    training: { dataset, batch_size: 8, shuffle: true, epochs: 8, seed: 1, optimizer: { type: 'SGD', lr: 0.1 } },
  }), 'image folder test');
}

beforeAll(() => {
  for (const [cls, top] of [['top', true], ['bottom', false]] as const) {
    mkdirSync(join(ROOT, cls), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(ROOT, cls, `img${String(i).padStart(2, '0')}.png`), png(top, i + (top ? 100 : 0)));
  }
  mkdirSync(join(tmp, 'withempty', 'a'), { recursive: true });
  mkdirSync(join(tmp, 'withempty', 'b'), { recursive: true });
  writeFileSync(join(tmp, 'withempty', 'a', 'x.png'), png(true, 1));
});

describe('training.dataset: image-folder', () => {
  it('accepts a built-in name (default fashion-mnist) or an image-folder object with defaults', () => {
    expect(TrainingSchema.parse({}).dataset).toBe('fashion-mnist');
    expect(TrainingSchema.parse({ dataset: { type: 'image-folder', path: 'x' } }).dataset).toEqual({ type: 'image-folder', path: 'x', mode: 'grey', validation_fraction: 0.1 });
    expect(() => TrainingSchema.parse({ dataset: { type: 'image-folder', path: 'x', validation_fraction: 0 } })).toThrow();
    expect(() => TrainingSchema.parse({ dataset: { type: 'image-folder', path: 'x', mode: 'cmyk' } })).toThrow();
  });

  it('trains a linear classifier to >90% on the validation split (used as the test split)', async () => {
    // a relative path is resolved against the project file's folder
    const run = await TrainingRun.create(project({ type: 'image-folder', path: 'shapes', validation_fraction: 0.2 }), join(tmp, 'p.netloom'), { threads: 1 });
    const job = run.job;
    expect(job.dataset.classes).toEqual(['bottom', 'top']);
    expect(job.dataset.sampleShape).toEqual([1, S, S]);
    expect(job.trainCount).toBe(48);
    expect(job.testCount).toBe(12);
    run.start();
    await run.finished();
    const reports = run.history.epochs;
    expect(reports).toHaveLength(8);
    expect(reports.at(-1)!.testAccuracy).toBeGreaterThan(0.9);
  });

  it('checks the Input shape against the images (resized with size, rgb gives 3 channels)', async () => {
    await expect(prepareJob(project({ type: 'image-folder', path: ROOT }, [1, 28, 28]), join(tmp, 'p.netloom'))).rejects.toThrow(/does not match shapes samples \[1, 12, 12\]/);
    const job = await prepareJob(project({ type: 'image-folder', path: ROOT, size: [6, 6], mode: 'rgb' }, [3, 6, 6]), join(tmp, 'p.netloom'), { threads: 1 });
    expect(job.dataset.sampleShape).toEqual([3, 6, 6]);
    expect(job.testCount).toBe(6);
  });

  it('rejects a folder with an empty class clearly', async () => {
    await expect(prepareJob(project({ type: 'image-folder', path: join(tmp, 'withempty') }), join(tmp, 'p.netloom'))).rejects.toThrow(/Class folder "b" in .* holds no PNG or JPEG images/);
  });
});
