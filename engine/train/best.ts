/**
 * The best epoch: a copy of the weights of the epoch with the lowest test loss so far, kept so that
 * they can still be saved once training has gone on, or diverged. The app's runs (run.ts: Save
 * checkpoint → best epoch) and `netloom train --save` after a NaN stop keep it by this one rule.
 */
export interface BestEpoch {
  /** 1-based */
  epoch: number;
  testLoss: number;
  params: Map<string, Float32Array>;
}

/**
 * `best`, or the epoch just finished when its test loss is lower (an earlier epoch keeps a tie);
 * `read` copies the weights and is called only then.
 */
export function keepBest(best: BestEpoch | undefined, epoch: number, testLoss: number, read: () => Map<string, Float32Array>): BestEpoch | undefined {
  if (!Number.isFinite(testLoss) || (best && !(testLoss < best.testLoss))) return best;
  return { epoch, testLoss, params: read() };
}
