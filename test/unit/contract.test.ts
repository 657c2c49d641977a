/**
 * The contract layer (engine/contract/): each table is complete where the engine relies on it, and
 * the layer stays bundleable (the renderer imports it, so it may import only zod and itself).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { BUILTIN_DATASETS, BUILTIN_DATASET_NAMES, BuiltinDatasetSchema, BUNDLED_DATASET_NAMES } from '../../engine/contract/datasets.js';
import { OPTIMIZERS, OPTIMIZER_FLAGS, OPTIMIZER_TYPES, OptimizerSchema, optimizerDefaults, optimizerTypeOf, type OptimizerSpec } from '../../engine/contract/optimizers.js';
import { DEFAULT_INTERVAL, SCHEDULER_PRIMARY, SchedulerSchema } from '../../engine/contract/schedulers.js';
import { REGISTRY } from '../../engine/data/registry.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { TrainingSchema, parseProjectText } from '../../engine/graph/document.js';

const CONTRACT = join('engine', 'contract');

describe('engine/contract', () => {
  it('imports nothing but zod and its own files (the renderer bundles it)', () => {
    for (const file of readdirSync(CONTRACT).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(CONTRACT, file), 'utf8');
      const from = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
      for (const spec of from) expect(spec === 'zod' || /^\.\/[\w-]+\.js$/.test(spec), `${file} imports ${spec}`).toBe(true);
    }
  });
});

describe('optimizers', () => {
  const project = parseProjectText(readFileSync('assets/templates/quickstart.json', 'utf8'), 'quickstart');
  const analysis = analyzeForTraining(project.graph, 'quickstart');

  it('every optimizer in the table compiles to one step per learnable parameter', () => {
    for (const type of OPTIMIZER_TYPES) {
      const program = compileGraph(analysis, { batchSize: 4, optimizer: OptimizerSchema.parse({ type }) });
      expect(program.step.length, type).toBe(program.params.length);
    }
  });

  it('CLI names are unique and map back to their class', () => {
    expect(new Set(OPTIMIZER_FLAGS).size).toBe(OPTIMIZER_TYPES.length);
    for (const type of OPTIMIZER_TYPES) expect(optimizerTypeOf(OPTIMIZERS[type].flag)).toBe(type);
  });

  it('forms and defaults name only parameters the optimizer has', () => {
    for (const type of OPTIMIZER_TYPES) {
      const spec: OptimizerSpec = OPTIMIZERS[type];
      const params = Object.keys(spec.params);
      for (const p of spec.primary) expect(params, `${type}.primary`).toContain(p);
      for (const p of Object.keys(spec.unsetDefaults ?? {})) expect(OptimizerSchema.parse({ type })).not.toHaveProperty(p);
      expect(Object.keys(optimizerDefaults(type)).sort(), type).toEqual([...params].sort());
    }
  });

  it("a project without an optimizer trains with the default type's torch defaults", () => {
    expect(TrainingSchema.parse({}).optimizer).toEqual({ type: 'SGD', ...optimizerDefaults('SGD') });
  });
});

describe('schedulers', () => {
  it('every scheduler has a default interval and primary fields it really has', () => {
    const types = SchedulerSchema.options.map((o) => o.shape.type.value);
    expect(Object.keys(DEFAULT_INTERVAL).sort()).toEqual([...types].sort());
    for (const option of SchedulerSchema.options) {
      const type = option.shape.type.value;
      for (const p of SCHEDULER_PRIMARY[type]) expect(Object.keys(option.shape), `${type}.primary`).toContain(p);
    }
  });
});

describe('built-in datasets', () => {
  it('every dataset in the contract has files and a reader, with the same shape and classes', () => {
    expect(Object.keys(REGISTRY).sort()).toEqual([...BUILTIN_DATASET_NAMES].sort());
    for (const name of BUILTIN_DATASET_NAMES) {
      expect(REGISTRY[name].name).toBe(name);
      expect(REGISTRY[name].title).toBe(BUILTIN_DATASETS[name].title);
      expect(REGISTRY[name].files.length, name).toBeGreaterThan(0);
    }
  });

  it('the schema takes exactly the built-in names, and only bundled ones ship', () => {
    for (const name of BUILTIN_DATASET_NAMES) expect(BuiltinDatasetSchema.safeParse(name).success).toBe(true);
    expect(BuiltinDatasetSchema.safeParse('CIFAR10').success).toBe(false);
    expect(BUNDLED_DATASET_NAMES.every((n) => BUILTIN_DATASETS[n].bundled)).toBe(true);
    for (const name of BUILTIN_DATASET_NAMES) expect(BUILTIN_DATASETS[name].classes.length, name).toBeGreaterThan(1);
  });
});
