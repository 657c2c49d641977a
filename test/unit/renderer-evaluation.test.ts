import { describe, expect, it } from 'vitest';
import {
  accuracyHue,
  bestEpochOf,
  classNamesOf,
  divergedEvaluationError,
  failedRunWeightsNote,
  fmtPercent,
  isRegression,
  macroAccuracy,
  perClassRows,
  regressionMetrics,
  worstCount,
} from '../../renderer/state/evaluation';
import { makeRunRecord, storedBestEpoch } from '../../renderer/state/runs';

/** A k-class evaluation as the engine builds it: perClass from the confusion rows (engine/train/run.ts). */
function evaluation(confusion: number[][], classNames: string[] = []) {
  const perClass = confusion.map((row, c) => {
    const count = row.reduce((a, b) => a + b, 0);
    return { accuracy: count ? row[c] / count : 0, count };
  });
  const samples = confusion.flat().reduce((a, b) => a + b, 0);
  const diag = confusion.reduce((a, row, i) => a + row[i], 0);
  return { accuracy: diag / samples, avgLoss: 0.5, samples, confusion, perClass, classNames };
}

/** A seeded pseudo-random confusion matrix (rows of varying accuracy). */
function randomConfusion(k: number, seed: number): number[][] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => Math.floor(rnd() * (i === j ? 900 : 60))));
}

describe('per-class accuracy', () => {
  it('rows follow the confusion matrix: counts are row sums, correct is the diagonal, class order', () => {
    const confusion = randomConfusion(10, 7);
    const ev = evaluation(confusion, ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']);
    const rows = perClassRows(ev);
    expect(rows.map((r) => r.index)).toEqual([...Array(10).keys()]);
    expect(rows.map((r) => r.name)).toEqual(ev.classNames);
    rows.forEach((r, i) => {
      expect(r.count).toBe(confusion[i].reduce((a, b) => a + b, 0));
      expect(r.correct).toBe(confusion[i][i]);
      expect(r.accuracy).toBeCloseTo(confusion[i][i] / r.count, 12);
    });
    expect(rows.reduce((a, r) => a + r.count, 0)).toBe(ev.samples);
  });

  it('the macro average weighs every class the same (unlike the accuracy)', () => {
    // class 0: 990/1000 right, class 1: 1/10 right
    const ev = evaluation([
      [990, 10],
      [9, 1],
    ]);
    const rows = perClassRows(ev);
    expect(macroAccuracy(rows)).toBeCloseTo((0.99 + 0.1) / 2, 12);
    expect(ev.accuracy).toBeCloseTo(991 / 1010, 12);
    expect(macroAccuracy([])).toBeNull();
  });

  it('flags the least accurate classes, at most 3, only those below the macro average', () => {
    const confusion = randomConfusion(10, 3);
    const rows = perClassRows(evaluation(confusion));
    const macro = macroAccuracy(rows)!;
    const flagged = rows.filter((r) => r.worst);
    expect(flagged).toHaveLength(3);
    const lowest = [...rows].sort((a, b) => a.accuracy! - b.accuracy! || a.index - b.index).slice(0, 3);
    expect(flagged.map((r) => r.index).sort()).toEqual(lowest.map((r) => r.index).sort());
    for (const r of flagged) expect(r.accuracy!).toBeLessThan(macro);
    // all classes equally good: nothing stands out, nothing is flagged
    const even = perClassRows(evaluation([[9, 1, 0], [0, 9, 1], [1, 0, 9]]));
    expect(even.some((r) => r.worst)).toBe(false);
    // two classes: never flag one of them as "worst"
    expect(worstCount(2)).toBe(0);
    expect(worstCount(3)).toBe(1);
    expect(worstCount(100)).toBe(3);
  });

  it('a class without test samples has no accuracy and is left out of the macro average', () => {
    const ev = evaluation([
      [8, 2, 0],
      [0, 0, 0],
      [1, 1, 8],
    ]);
    const rows = perClassRows(ev);
    expect(rows[1]).toMatchObject({ accuracy: null, count: 0, worst: false });
    expect(macroAccuracy(rows)).toBeCloseTo((0.8 + 0.8) / 2, 12);
  });

  it('without the engine\'s perClass (or a mismatched one) the rows come from the matrix', () => {
    const confusion = randomConfusion(4, 11);
    const rows = perClassRows({ ...evaluation(confusion), perClass: [] });
    rows.forEach((r, i) => expect(r.accuracy).toBeCloseTo(confusion[i][i] / confusion[i].reduce((a, b) => a + b, 0), 12));
  });

  it('class names fall back to indices', () => {
    expect(classNamesOf({ classNames: [], confusion: [[1, 0], [0, 1]] })).toEqual(['0', '1']);
    expect(classNamesOf({ classNames: ['a', 'b', 'c'], confusion: [[1, 0], [0, 1]] })).toEqual(['a', 'b']);
  });

  it('colours and formats', () => {
    expect(accuracyHue(1)).toBe(130);
    expect(accuracyHue(0.5)).toBe(0);
    expect(accuracyHue(0.1)).toBe(0);
    expect(accuracyHue(0.75)).toBe(65);
    expect(fmtPercent(0.97856)).toBe('97.9%');
    expect(fmtPercent(null)).toBe('—');
    expect(fmtPercent(Number.NaN)).toBe('—');
  });
});

describe('regression summary', () => {
  it('is a regression evaluation when there is no accuracy and no matrix', () => {
    expect(isRegression({ accuracy: null, confusion: [] })).toBe(true);
    expect(isRegression({ accuracy: 0.5, confusion: [[1]] })).toBe(false);
  });

  it('reads the optional regression field defensively', () => {
    const base = { accuracy: null, avgLoss: 0.25, samples: 10, confusion: [], perClass: [], classNames: [] };
    expect(regressionMetrics(base)).toBeNull();
    expect(regressionMetrics({ ...base, regression: { mae: 0.4, rmse: 0.5, r2: 0.9, targets: ['price'] } })).toEqual({ mae: 0.4, rmse: 0.5, r2: 0.9, targets: ['price'] });
    // r2 is null for a constant target; anything not a finite number reads as missing
    expect(regressionMetrics({ ...base, regression: { mae: 0.4, rmse: 'x', r2: null } })).toEqual({ mae: 0.4, rmse: null, r2: null, targets: [] });
    expect(regressionMetrics({ ...base, regression: { mae: Number.NaN, rmse: 1, r2: 0.5, targets: [3, 'y'] } })).toEqual({ mae: null, rmse: 1, r2: 0.5, targets: ['y'] });
    expect(regressionMetrics({ ...base, regression: { rmse: null } })).toBeNull();
    expect(regressionMetrics({ ...base, regression: 'oops' })).toBeNull();
  });
});

describe('best epoch', () => {
  it('is the lowest test loss, the first one on ties (the engine\'s rule)', () => {
    expect(bestEpochOf([])).toBeNull();
    expect(bestEpochOf([{ epoch: 1, testLoss: 0.9 }, { epoch: 2, testLoss: 0.4 }, { epoch: 3, testLoss: 0.6 }])).toBe(2);
    expect(bestEpochOf([{ epoch: 1, testLoss: 0.4 }, { epoch: 2, testLoss: 0.4 }])).toBe(1);
  });

  it('is recorded with a stored run: the engine\'s value when given, else from the epochs', () => {
    const o = {
      runId: 'r1',
      index: 1,
      startedAt: Date.UTC(2026, 0, 1),
      state: 'finished',
      settings: { dataset: 'mnist', epochs: 3, batchSize: 64, optimizer: 'sgd' as const, lr: 0.1, limitTrain: null },
      epochs: [
        { epoch: 1, trainLoss: 1, testLoss: 0.5, testAccuracy: 0.8, seconds: 1 },
        { epoch: 2, trainLoss: 0.8, testLoss: 0.3, testAccuracy: 0.9, seconds: 1 },
        { epoch: 3, trainLoss: 0.7, testLoss: 0.35, testAccuracy: 0.9, seconds: 1 },
      ],
      loss: [],
      changes: [],
    };
    expect(makeRunRecord(o).bestEpoch).toBe(2);
    expect(makeRunRecord({ ...o, bestEpoch: 3 }).bestEpoch).toBe(3);
    expect(makeRunRecord({ ...o, epochs: [] }).bestEpoch).toBeNull();
    // runs stored before bestEpoch was recorded
    const { bestEpoch: _b, ...old } = makeRunRecord(o);
    expect(storedBestEpoch(old)).toBe(2);
    expect(storedBestEpoch({ bestEpoch: 1, epochs: [] })).toBe(1);
    expect(storedBestEpoch({ epochs: [] })).toBeNull();
  });
});

describe('failed runs', () => {
  it('the weights note names the best epoch when there is one', () => {
    expect(failedRunWeightsNote(null)).toMatch(/last good weights \(from before the failing batch\)/);
    expect(failedRunWeightsNote(null)).not.toMatch(/best/);
    expect(failedRunWeightsNote(2)).toMatch(/and epoch 2's, the best so far \(lowest test loss: Save checkpoint → best epoch\)/);
  });

  it('a diverged evaluation names the test split and the way out', () => {
    const e = divergedEvaluationError({ message: 'the loss became NaN at batch 1 of 157' });
    expect(e.code).toBe('NL_NON_FINITE');
    expect(e.message).toBe('the last weights give a non-finite loss on the test split too (the loss became NaN at batch 1 of 157); the run had diverged before it stopped');
    expect(e.hint).toMatch(/best epoch/);
    expect(e.hint).toMatch(/lower learning rate/);
  });
});
