/**
 * Cases for the command line: one `netloom` process each (about 0.3 s), so they are few: damaged
 * projects (train), checkpoints (eval / train --weights), CSV files (train --csv), odd flag values,
 * and paths that are no regular file.
 */
import * as path from 'node:path';
import { caseDir, damagedProject, pickCheckpoint, TINY_FLAGS, writeTarget, type Group } from './case-kit.js';
import { mutateCsv } from './mutate-csv.js';
import { mutateSafetensors } from './mutate-safetensors.js';

export const cliProject: Group = {
  channel: 'cli',
  cases: 40,
  make(g, ctx, seed) {
    const d = damagedProject(g.fork('project'), ctx.corpus);
    const file = path.join(caseDir(ctx, 'cli-project', seed), g.pick(['project.json', 'project.netloom', 'project']));
    const save = g.chance(0.2) ? ['--save', writeTarget(g, ctx, seed, '.safetensors', false)] : [];
    return {
      input: d.what,
      files: [{ path: file, bytes: d.bytes }],
      async run(t) {
        const r = await t.cli(['train', file, ...TINY_FLAGS, ...save]);
        // (a --save target the CLI refuses is no disagreement about the project)
        if (!save.length) ctx.compare.push({ group: 'cli-project', seed, input: d.what, file, cliCode: /error \[(NL_[A-Z_]+)\]/.exec(r.stderr)?.[1] });
      },
    };
  },
};

export const cliCheckpoint: Group = {
  channel: 'cli',
  cases: 16,
  make(g, ctx, seed) {
    const s = pickCheckpoint(g, ctx);
    const m = mutateSafetensors(g.fork('ckpt'), s.bytes, g.pick(ctx.corpus.checkpoints).bytes);
    const file = path.join(caseDir(ctx, 'cli-checkpoint', seed), 'model.safetensors');
    const iris = ctx.corpus.iris.path;
    const args = g.chance(0.5) ? ['eval', iris, '--weights', file] : ['train', iris, '--weights', file, ...TINY_FLAGS];
    return {
      input: `checkpoint ${s.name}; ${m.what.join('; ')}`,
      files: [{ path: file, bytes: m.bytes }],
      async run(t) {
        const r = await t.cli(args);
        if (m.mustRefuse && r.code === 0) t.fail('accepted', `cli ${args[0]}`, `loaded a checkpoint with ${m.mustRefuse}`);
      },
    };
  },
};

export const cliCsv: Group = {
  channel: 'cli',
  cases: 16,
  make(g, ctx, seed) {
    const s = g.pick(ctx.corpus.csvs);
    const m = mutateCsv(g.fork('csv'), s.text, Buffer.from(g.pick(ctx.corpus.csvs).text));
    const file = path.join(caseDir(ctx, 'cli-csv', seed), g.pick(['data.csv', 'data.tsv', 'data']));
    const project = s.task === 'regression' ? ctx.corpus.regression : ctx.corpus.iris;
    const label = g.chance(0.85) ? s.label : g.pick([...s.columns, '', '__proto__', 'missing']);
    const args = ['train', project.path, '--csv', file, '--label', label, ...TINY_FLAGS];
    if (s.task === 'regression') args.push('--regression');
    if (g.chance(0.2)) args.push('--features', g.pick([s.columns.slice(0, -1).join(','), s.columns[0], `${s.columns[0]},${s.columns[0]}`, 'nope']));
    if (g.chance(0.2)) args.push('--validation-fraction', g.pick(['0.5', '0.01', '0.99', '1e-9']));
    if (g.chance(0.1)) args.push('--no-standardize');
    return { input: `csv ${s.name}; ${m.what.join('; ')}; ${args.slice(4).join(' ')}`, files: [{ path: file, bytes: m.bytes }], run: async (t) => void (await t.cli(args)) };
  },
};

export const cliFlags: Group = {
  channel: 'cli',
  cases: 12,
  make(g, ctx, seed) {
    const specials = ctx.sb.specialPaths.map((s) => s.path).filter((p) => !p.includes('\u0000'));
    const FLAGS: Record<string, string[]> = {
      '--lr': ['1e308', '1e300', '0', '-1', 'NaN', 'Infinity', '5e-324', '3.5e38', 'abc', ''],
      '--batch-size': ['0', '-1', '1', '1.5', '1048577', '1e9', '9007199254740993'],
      '--seed': ['-1', '9007199254740992', '1e300', '0.5'],
      '--threads': ['0', '-1', '1.5', '64', '1000', '1e9'],
      '--limit-train': ['0', '-1', '1', '1.5', '1e308'],
      '--limit-test': ['0', '-1', '1', '1e308'],
      '--optimizer': ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'lbfgs'],
      '--validation-fraction': ['0', '1', '0.5', '1e-300'],
      '--dataset': ['mnist', 'kmnist', 'cifar10'],
      '--data': [ctx.sb.special, ctx.corpus.seeds, '/dev/null'],
      '--image-folder': [ctx.corpus.seeds, ctx.sb.special],
      '--image-size': ['0x0', '4096x4096', '28x28', '1x99999'],
      '--weights': [ctx.irisCheckpoint.path, ctx.resumableCheckpoint.path, ...specials.filter((p) => !p.includes('pipe'))],
      '--save': [path.join(ctx.sb.out, `${seed}.safetensors`), path.join(ctx.sb.out, `${seed}`), path.join(ctx.sb.out, 'folder.json'), path.join(ctx.sb.out, 'missing', 'x.safetensors')],
      '--epochs': ['0', '-1', '1.5', '1'],
    };
    const chosen = new Map<string, string>();
    for (let i = 0, n = g.small(3); i < n; i++) {
      const flag = g.pick(Object.keys(FLAGS));
      chosen.set(flag, g.pick(FLAGS[flag]));
    }
    const args = ['train', ctx.corpus.iris.path];
    for (let i = 0; i < TINY_FLAGS.length; i += 2) if (!chosen.has(TINY_FLAGS[i])) args.push(TINY_FLAGS[i], TINY_FLAGS[i + 1]);
    for (const [f, v] of chosen) args.push(f, v);
    return { input: [...chosen].map(([f, v]) => `${f} ${v}`).join(' '), files: [], run: async (t) => void (await t.cli(args)) };
  },
};

/** Paths that are no regular file (FIFO, /dev/zero, folder, loop, ...): case = seed mod the combinations, so every one is tried. */
export const cliSpecial: Group = {
  channel: 'cli',
  cases: 20,
  make(_g, ctx, seed) {
    // a command line cannot carry a NUL byte
    const sp = ctx.sb.specialPaths.filter((s) => !s.path.includes('\u0000'));
    const k = seed % (sp.length * 2);
    const p = sp[k % sp.length];
    const iris = ctx.corpus.iris.path;
    // (--csv and --image-folder are checked to be a file / a folder before anything reads them)
    const args = [['train', p.path, ...TINY_FLAGS], ['eval', iris, '--weights', p.path]][Math.floor(k / sp.length)];
    return { input: `${p.name} (${p.path}) as ${args[0] === 'eval' ? '--weights' : 'the project'}`, files: [], run: async (t) => void (await t.cli(args, { timeoutMs: 5000 })) };
  },
};
