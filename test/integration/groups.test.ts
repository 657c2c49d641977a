/**
 * Groups end to end (issue 13, engine/graph/groups.ts): a project with nested groups and a repeat x3 round-trips
 * through the project file, trains a few batches on the native engine, saves a checkpoint whose keys are the
 * flat full names (`stage.2.block.fc.weight`), and loads it back into a new run, weights equal; `netloom summary`
 * prints it nested like torchinfo.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openProjectFile, saveProjectFile } from '../../engine/io/project.js';
import { readCheckpoint } from '../../engine/train/checkpoints.js';
import { TrainingRun } from '../../engine/train/run.js';
import { GROUPED_REPEAT, groupedKeys, groupedProject } from './grouped-project.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-groups-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const limits = { epochs: 1, limitTrain: 96, limitTest: 64, threads: 2, eventIntervalMs: 0 };

describe('a project with nested groups and a repeat x3', () => {
  it('round-trips through the project file: groups, repeat and collapse as they were', async () => {
    const project = groupedProject();
    const saved = await saveProjectFile(join(tmp, 'grouped.netloom'), project);
    const text = JSON.parse(readFileSync(saved.path, 'utf8')) as { graph: { groups: unknown[]; nodes: { group?: string }[] } };
    expect(text.graph.groups).toEqual(project.graph.groups);
    expect(text.graph.nodes.filter((n) => n.group === 'block')).toHaveLength(3);
    const opened = await openProjectFile(saved.path);
    expect(opened.project.graph).toEqual(project.graph);
  });

  it('a project without groups is saved without a groups field, as before', async () => {
    const quickstart = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8')) as { graph: object };
    const saved = await saveProjectFile(join(tmp, 'plain.netloom'), quickstart);
    expect(Object.keys(JSON.parse(readFileSync(saved.path, 'utf8')).graph).sort()).toEqual(['edges', 'nodes']);
    expect((await openProjectFile(saved.path)).project.graph.groups).toBeUndefined();
  });

  it('trains, saves a .pt under the full names, and a new run loads it back with the same weights', async () => {
    const file = join(tmp, 'grouped.netloom');
    const project = (await saveProjectFile(file, groupedProject())).project;
    const run = await TrainingRun.create(project, file, limits);
    const pt = join(tmp, 'grouped.pt');
    try {
      expect(run.session.program.params.map((p) => p.key).sort()).toEqual(groupedKeys().sort());
      run.start();
      await run.finished();
      expect(run.state, JSON.stringify(run.error)).toBe('finished');
      const losses = run.history.batchLosses[0];
      expect(losses.length).toBe(3);
      expect([...losses].every(Number.isFinite)).toBe(true);
      await run.saveCheckpoint(pt);
    } finally {
      await run.close();
    }
    const read = await readCheckpoint(pt);
    expect(Object.keys(read.tensors).sort()).toEqual(groupedKeys().sort());
    // every copy has its own weights: training moved them apart
    const fc = (i: number) => read.tensors[`stage.${i}.block.fc.weight`].data;
    expect(fc(0)).not.toEqual(fc(GROUPED_REPEAT - 1));

    const again = await TrainingRun.create(project, file, limits);
    try {
      const report = await again.loadCheckpointReport(pt, { dryRun: true });
      expect(report.ok).toBe(true);
      // one report row per flat node: the copies of `fc` are fc, fc@1, fc@2
      const fcRows = report.nodes.filter((r) => r.type === 'Linear' && r.name.endsWith('block.fc'));
      expect(fcRows.map((r) => [r.nodeId, r.name, r.keys])).toEqual([0, 1, 2].map((i) => [i ? `fc@${i}` : 'fc', `stage.${i}.block.fc`, [`stage.${i}.block.fc.weight`, `stage.${i}.block.fc.bias`]]));
      await again.loadCheckpoint(pt);
      const params = again.getParams();
      for (const key of groupedKeys().filter((k) => !k.endsWith('num_batches_tracked'))) expect(params.get(key), key).toEqual(read.tensors[key].data);
    } finally {
      await again.close();
    }
  }, 120_000);
});

describe('netloom summary', () => {
  const netloom = (...args: string[]) => spawnSync(process.execPath, [join(process.cwd(), 'dist', 'engine', 'host', 'cli.js'), ...args], { encoding: 'utf8', timeout: 60_000 });

  it('prints the groups as torchinfo\'s inner rows, each copy with its index', async () => {
    const file = (await saveProjectFile(join(tmp, 'summary.netloom'), groupedProject())).path;
    const r = netloom('summary', file, '--batch-size', '4');
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').map((l) => l.replace(/\s+$/, ''));
    expect(rows.some((l) => /^├─stage \(Sequential\): 1-4 +\[4, 16\]/.test(l))).toBe(true);
    expect(rows.filter((l) => /^│ {4}└─\d \(Module\): 2-\d/.test(l))).toHaveLength(GROUPED_REPEAT);
    expect(rows.filter((l) => l.startsWith('│    │    │    └─fc (Linear): 4-1'))).toHaveLength(GROUPED_REPEAT);
  });

  it('a broken repeat: the table, then the problem and exit code 1', async () => {
    const project = groupedProject();
    project.graph.edges.push({ id: 'out2', source: 'fc', target: 'head' }); // a second layer leading out of stage
    const file = (await saveProjectFile(join(tmp, 'broken.netloom'), project)).path;
    const r = netloom('summary', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Total params');
    expect(r.stderr).toMatch(/NL_BAD_GRAPH[\s\S]*group stage repeats its contents 3 times/);
  });
});
