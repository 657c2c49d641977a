/**
 * The valid files the fuzzer damages: the example projects (assets/templates, test/bench), the
 * sample CSVs (assets/samples, test/parity/golden_csv), the checkpoints of the parity tests and one
 * trained here by `netloom train --save` (plus a resumable one saved by `netloom serve`, made in
 * the test's setup). Each is copied into inputs/seeds/, and dataset paths inside the projects are
 * made absolute there, so the engine only ever reads the fuzz folder's copies.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ProjectPaths } from './mutate-project.js';
import type { Sandbox } from './sandbox.js';

export interface SeedProject {
  name: string;
  /** the project as JSON (dataset paths absolute) */
  json: Record<string, any>;
  path: string;
}

export interface SeedCheckpoint {
  name: string;
  bytes: Uint8Array;
  path: string;
}

export interface SeedCsv {
  name: string;
  text: string;
  path: string;
  label: string;
  columns: string[];
  task: 'classification' | 'regression';
}

export interface Corpus {
  seeds: string;
  projects: SeedProject[];
  csvs: SeedCsv[];
  checkpoints: SeedCheckpoint[];
  /** the Iris project (its CSV in seeds/): the fast project runs and checkpoints are made against */
  iris: SeedProject;
  /** a regression project over regression.csv */
  regression: SeedProject;
  paths: ProjectPaths;
}

const TEMPLATES = ['quickstart', 'fashion-cnn', 'lenet5', 'resnet8', 'autoencoder', 'iris-mlp'];

export function loadCorpus(sb: Sandbox): Corpus {
  const seeds = path.join(sb.inputs, 'seeds');
  const copy = (from: string, name = path.basename(from)) => {
    const to = path.join(seeds, name);
    copyFileSync(from, to);
    return to;
  };
  mkdirSync(seeds, { recursive: true });

  const csv = (from: string, label: string, task: SeedCsv['task']): SeedCsv => {
    const p = copy(from);
    const text = readFileSync(p, 'utf8');
    return { name: path.basename(p), text, path: p, label, columns: text.split('\n')[0].trim().split(','), task };
  };
  const csvs = [csv('assets/samples/iris.csv', 'species', 'classification'), csv('test/parity/golden_csv/regression.csv', 'y', 'regression')];

  const project = (name: string, json: Record<string, any>): SeedProject => {
    const p = path.join(seeds, `${name}.json`);
    writeFileSync(p, `${JSON.stringify(json, null, 2)}\n`);
    return { name, json, path: p };
  };
  const projects = TEMPLATES.map((t) => {
    const json = JSON.parse(readFileSync(`assets/templates/${t}.json`, 'utf8'));
    if (json.training?.dataset?.type === 'csv') json.training.dataset.path = csvs[0].path;
    return project(t, json);
  });
  projects.push(project('bench-cnn', JSON.parse(readFileSync('test/bench/cnn.json', 'utf8'))));
  const iris = projects.find((p) => p.name === 'iris-mlp')!;
  const regression = project('regression', {
    format: 'netloom-project', version: 1, name: 'regression',
    graph: {
      nodes: [
        { id: 'input', type: 'Input', name: 'input', params: { shape: [3] } },
        { id: 'fc1', type: 'Linear', name: 'fc1', params: { in_features: 'auto', out_features: 8 } },
        { id: 'act', type: 'Tanh', name: 'act', params: {} },
        { id: 'fc2', type: 'Linear', name: 'fc2', params: { in_features: 'auto', out_features: 1 } },
        { id: 'loss', type: 'MSELoss', name: 'loss', params: {} },
      ],
      edges: [{ source: 'input', target: 'fc1' }, { source: 'fc1', target: 'act' }, { source: 'act', target: 'fc2' }, { source: 'fc2', target: 'loss' }],
    },
    training: { dataset: { type: 'csv', path: csvs[1].path, label: 'y', task: 'regression' }, batch_size: 16, epochs: 1, optimizer: { type: 'Adam', lr: 0.01 } },
  });
  projects.push(regression);

  const ckpt = (from: string): SeedCheckpoint => {
    const p = copy(from);
    return { name: path.basename(p), bytes: new Uint8Array(readFileSync(p)), path: p };
  };
  const checkpoints = ['test/parity/golden_csv/iris-mlp.safetensors', 'test/parity/golden_csv/regression.safetensors', 'test/parity/golden/linear_b1.safetensors', 'test/parity/golden/mlp_b3.safetensors'].map(ckpt);

  return {
    seeds, projects, csvs, checkpoints, iris, regression,
    paths: {
      csvFiles: csvs.map((c) => ({ path: c.path, label: c.label, columns: c.columns })),
      folders: [seeds, path.join(sb.special, 'missing-folder'), sb.special, 'relative-folder'],
    },
  };
}

/** Adds a checkpoint made during setup (trained weights of the Iris project). */
export function addCheckpoint(c: Corpus, file: string): SeedCheckpoint {
  const s = { name: path.basename(file), bytes: new Uint8Array(readFileSync(file)), path: file };
  c.checkpoints.unshift(s);
  return s;
}
