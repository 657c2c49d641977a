// Dumps the compiled Programs of the quickstart and fashion-cnn templates (batch 64 and 256) with
// how to initialise their parameters (PyTorch's ranges; the values are drawn by the benchmark) and
// their constants into tools/gpu-check/programs/<template>-b<batch>.bin, the
// fixtures bench_cuda.cpp trains on the GPU machine (which has no Node). Run after `npx tsc -p
// tsconfig.json` whenever the compiler or the Program format changes:
//   node tools/gpu-check/dump-programs.mjs
// File layout (little-endian int32 words; floats as their bits):
//   "NLGC" (0x43474c4e)  1 (version)  n_words  words[n_words]
//   n_inits  then per init: buffer  elems  mode  value  [values[elems] when mode is 2]
//            mode 0: uniform in (-value, value)   1: every element is value   2: these values
//   classes  input_elems
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => path.join(root, 'dist', p);
const { parseProjectFileText } = await import(dist('engine/io/project.js'));
const { analyzeForTraining } = await import(dist('engine/graph/analyze.js'));
const { compileGraph } = await import(dist('engine/compile/compile.js'));
const { encodeProgram } = await import(dist('engine/compile/program.js'));
const { initBound } = await import(dist('engine/train/init.js'));

const MAGIC = 0x43474c4e;
for (const template of ['quickstart', 'fashion-cnn']) {
  const file = path.join(root, 'assets/templates', `${template}.json`);
  const project = parseProjectFileText(readFileSync(file, 'utf8'), file);
  for (const batchSize of [64, 256]) {
    const analysis = analyzeForTraining(project.graph, file, { batchSize });
    const program = compileGraph(analysis, { batchSize, optimizer: project.training.optimizer });
    const words = encodeProgram(program);
    const f32bits = (v) => new Int32Array(Float32Array.of(v).buffer)[0];
    const parts = [Int32Array.of(MAGIC, 1, words.length), words, Int32Array.of(program.params.length + program.constants.length)];
    for (const p of program.params) {
      const elems = p.shape.reduce((a, b) => a * b, 1);
      const fill = p.init.kind === 'ones' ? 1 : p.init.kind === 'zeros' ? 0 : null;
      parts.push(Int32Array.of(p.buffer, elems, fill === null ? 0 : 1, f32bits(fill ?? initBound(p.init))));
    }
    for (const c of program.constants)
      parts.push(Int32Array.of(c.buffer, c.data.length, 2, 0), new Int32Array(c.data.buffer, c.data.byteOffset, c.data.length));
    parts.push(Int32Array.of(program.classes, program.inputShape.reduce((a, b) => a * b, 1)));
    const name = path.join(root, 'tools/gpu-check/programs', `${template}-b${batchSize}.bin`);
    writeFileSync(name, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
    console.log(`${path.relative(root, name)}: ${words.length} words, ${program.params.length} parameters, ${program.constants.length} constants`);
  }
}
