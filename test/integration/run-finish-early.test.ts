/**
 * TrainingRun.finishEarly(), what `netloom train` does on the first Ctrl-C: training stops after the
 * current batch, the epoch's test pass still runs whole and is reported (endedEarly), and the run
 * ends 'stopped'; asked during a test pass, the run ends after that pass. Also the 'phase' events the
 * CLI prints its epoch headers from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { parseProjectText } from '../../engine/graph/document.js';
import { TrainingRun, type RunEvent } from '../../engine/train/run.js';

const QUICKSTART = join(process.cwd(), 'assets', 'templates', 'quickstart.json');

async function quickstart(): Promise<TrainingRun> {
  const p = parseProjectText(readFileSync(QUICKSTART, 'utf8'), 'quickstart (test)');
  return TrainingRun.create(p, 'quickstart (test)', { dataset: 'mnist', limitTrain: 3200, limitTest: 500, epochs: 3, threads: 1, eventIntervalMs: 0 });
}

function record(r: TrainingRun): RunEvent[] {
  const events: RunEvent[] = [];
  r.onEvent((e) => events.push(e));
  return events;
}

beforeAll(async () => {
  await ensureBuiltin('mnist');
});

describe('TrainingRun.finishEarly', () => {
  it('during training: the epoch ends after the batch, its test pass runs whole, the run ends stopped', async () => {
    const r = await quickstart();
    const events = record(r);
    let asked = false;
    r.onEvent((e) => {
      if (e.kind === 'progress' && e.epoch === 2 && e.batch >= 10 && !asked) {
        asked = true;
        r.finishEarly();
      }
    });
    r.start();
    await r.finished();
    expect(r.state, JSON.stringify(r.error)).toBe('stopped');
    const epochs = r.history.epochs;
    expect(epochs.map((e) => e.endedEarly)).toEqual([false, true]);
    expect(epochs[0].trainSamples).toBe(3200);
    expect(epochs[1].trainSamples).toBeGreaterThanOrEqual(10 * 64);
    expect(epochs[1].trainSamples).toBeLessThan(3200);
    expect(epochs[1].trainSamples % 64).toBe(0);
    // the test pass covered the whole split with the weights the epoch ended with
    const again = await r.test();
    expect(again.samples).toBe(500);
    expect(again.avgLoss).toBe(epochs[1].testLoss);
    expect(again.accuracy).toBe(epochs[1].testAccuracy);
    const phases = events.filter((e) => e.kind === 'phase').map((e) => (e.kind === 'phase' ? `${e.epoch}:${e.phase}` : ''));
    expect(phases).toEqual(['1:train', '1:test', '2:train', '2:test']);
    expect(events.filter((e) => e.kind === 'state').map((e) => (e.kind === 'state' ? e.state : ''))).toEqual(['running', 'stopped']);
    await r.close();
  });

  it('during a test pass: that pass finishes and the epoch counts whole; the run ends after it', async () => {
    const r = await quickstart();
    r.onEvent((e) => {
      if (e.kind === 'phase' && e.phase === 'test' && e.epoch === 1) r.finishEarly();
    });
    r.start();
    await r.finished();
    expect(r.state).toBe('stopped');
    expect(r.history.epochs).toHaveLength(1);
    expect(r.history.epochs[0]).toMatchObject({ endedEarly: false, trainSamples: 3200 });
    expect((await r.test()).avgLoss).toBe(r.history.epochs[0].testLoss);
    await r.close();
  });

  it('does nothing to a run that is not training', async () => {
    const r = await quickstart();
    r.finishEarly();
    expect(r.state).toBe('ready');
    r.start();
    await r.finished();
    expect(r.state).toBe('finished');
    expect(r.history.epochs).toHaveLength(3);
    await r.close();
  });
});
