import { describe, expect, it } from 'vitest';
import { decimate, hyperChangeLabel, makeRunRecord, storedRuns, MAX_CURVE_POINTS } from '../../renderer/state/runs';

describe('stored runs', () => {
  it('decimates to at most 500 points, keeping the ends', () => {
    const pts = Array.from({ length: 12_345 }, (_, i) => ({ x: i + 1, y: 1 / (i + 1) }));
    const d = decimate(pts);
    expect(d).toHaveLength(MAX_CURVE_POINTS);
    expect(d[0]).toBe(pts[0]);
    expect(d.at(-1)).toBe(pts.at(-1));
    expect(decimate(pts.slice(0, 10))).toHaveLength(10);
  });

  it('makes a compact record with the final test metrics', () => {
    const rec = makeRunRecord({
      runId: 'r1',
      index: 1,
      startedAt: Date.UTC(2026, 0, 1),
      state: 'finished',
      settings: { dataset: 'mnist', epochs: 2, batchSize: 1, optimizer: 'sgd', lr: 0.001, limitTrain: 2000 },
      epochs: [
        { epoch: 1, trainLoss: 1, testLoss: 0.9, testAccuracy: 0.7, seconds: 3 },
        { epoch: 2, trainLoss: 0.5, testLoss: 0.4, testAccuracy: 0.9, seconds: 3 },
      ],
      loss: Array.from({ length: 4000 }, (_, i) => ({ x: i + 1, y: 2 - i / 4000 })),
      changes: [{ step: 10, epoch: 1, batch: 10, changes: { lr: { from: 0.001, to: 0.01 } } }],
    });
    expect(rec.loss.length).toBeLessThanOrEqual(500);
    expect(rec.final).toEqual({ testAccuracy: 0.9, testLoss: 0.4 });
    expect(rec.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(rec.label).toBe('#1 mnist sgd lr 0.001→0.01');
    expect(storedRuns({ runs: [rec, { junk: true }, 3] })).toEqual([rec]);
    expect(storedRuns({})).toEqual([]);
  });

  it('labels a hyper-parameter change', () => {
    expect(hyperChangeLabel({ changes: { lr: { from: 0.001, to: 0.01 } } }, 1234)).toBe('lr 0.001 → 0.01 at step 1234');
  });
});
