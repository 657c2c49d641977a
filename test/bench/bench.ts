/**
 * `npm run bench`: Netloom's native engine against PyTorch on the quickstart MLP and a small CNN, in one
 * invocation.
 *
 * Workloads (the anchor's, test/bench/torch_bench.py), on in-memory FashionMNIST (the built-in copy, or
 * $NETLOOM_DATA_DIR), batch 64 and 256 x {SGD lr 1e-3, Adam lr 1e-3, inference}, CrossEntropyLoss:
 *   mlp: Flatten -> Linear(784,512) -> ReLU -> Linear(512,512) -> ReLU -> Linear(512,10)
 *        (assets/templates/quickstart.json; 1.34 MFLOP/sample forward)
 *   cnn: Conv2d(1,32,3) -> ReLU -> Conv2d(32,64,3) -> ReLU -> MaxPool2d(2) -> Flatten ->
 *        Linear(9216,128) -> ReLU -> Linear(128,10) (test/bench/cnn.json; 23.98 MFLOP/sample forward)
 * FLOPs: 2 per multiply-add of the Conv2d/Linear layers; training = 3x forward.
 *
 * Timing, both sides: --warmup steps before the first repeat of a workload, 1 step before each later
 * repeat, then a timed run of contiguous in-order batches; a repeat lasts about --min-time seconds
 * (at least --min-steps, at most --max-steps steps); median of --repeats repeats, with min..max.
 * The CNN's steps are ~20x slower: it uses --cnn-repeats (5) repeats of ~--cnn-min-time (1) s each
 * (a b256 training repeat is its 10 --min-steps, ~1-1.5 s), so that both models finish in ~4-5 min.
 * Ours: whole native epochs (job.session.runEpoch('train', {count: steps*batch, dropLast: true})),
 * timed by the engine itself (result.seconds); a repeat longer than the dataset runs several
 * epochs back to back and adds their times. Inference: the same with train: false (forward + the
 * loss value; PyTorch: forward only under no_grad).
 * PyTorch: torch_bench.py --serve, a child process kept alive for the whole run, so its repeats
 * alternate with ours (ours first on even repeats, PyTorch first on odd ones): both see the same
 * machine load. It runs in the fair configuration of the anchors: OpenBLAS' OpenMP build,
 * jemalloc, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE removed (from its environment only), same threads.
 *
 * Also: peak RSS of `netloom train assets/templates/quickstart.json --epochs 1`, load average
 * before/after, CPU, and the fp32 peak (an FMA loop compiled with the system C compiler, best of
 * many short windows on one thread x threads; --peak-gflops overrides). The last line of stdout
 * is one JSON object with every figure.
 *
 * Usage: npm run bench -- [--models mlp cnn] [--threads 2] [--repeats 7] [--min-time 2] [--max-steps 600]
 *                        [--warmup 10] [--min-steps 10] [--cnn-repeats 5] [--cnn-min-time 1] [--batches 64,256]
 *                        [--no-torch] [--no-rss] [--python /usr/bin/python3] [--peak-gflops N]
 *                        [--max-others 0.1] [--budget 200] [--cnn-budget 60]
 * --models takes one or more of mlp, cnn (space- or comma-separated; default both, MLP first).
 *
 * Contention: during each pair of repeats (ours + PyTorch) the bench reads /proc/stat and subtracts
 * its own and PyTorch's CPU time, giving the cores other processes used. A pair where they used more
 * than --max-others cores is marked contended and run again (at most --repeats extra pairs per
 * workload, and none once the model's section has run --budget (MLP) / --cnn-budget (CNN) seconds); the figures come from the clean pairs when at least
 * 3 (or --repeats, if fewer) are clean, else from all of them (and the row is marked *). OpenMP
 * (PyTorch) collapses far more than Netloom's pool when a core is taken away, so contended pairs
 * are not comparable.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadBinding, packageRoot } from '../../engine/runtime/binding.js';
import { prepareJob, readProject, type Job } from '../../engine/train/job.js';

// ----- options -------------------------------------------------------------------------------

type ModelName = 'mlp' | 'cnn';
const MODEL_NAMES: ModelName[] = ['mlp', 'cnn'];

interface Options {
  models: ModelName[];
  threads: number;
  repeats: number;
  minTime: number;
  minSteps: number;
  maxSteps: number;
  warmup: number;
  batches: number[];
  torch: boolean;
  rss: boolean;
  python: string;
  peakGflops?: number;
  /** a pair of repeats during which other processes used more cores than this is rerun */
  maxOthers: number;
  /** stop rerunning contended pairs after this many seconds (per model section) */
  budget: number;
  cnnRepeats: number;
  cnnMinTime: number;
  cnnBudget: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { models: [...MODEL_NAMES], cnnRepeats: 5, cnnMinTime: 1, cnnBudget: 60, threads: 2, repeats: 7, minTime: 2, minSteps: 10, maxSteps: 600, warmup: 10, batches: [64, 256], torch: true, rss: true, python: '/usr/bin/python3', maxOthers: 0.1, budget: 200 };
  const num = (flag: string, v: string | undefined, int = true): number => {
    const n = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) {
      console.error(`bench: ${flag} takes a positive ${int ? 'whole ' : ''}number, got ${JSON.stringify(v)}`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    switch (flag) {
      case '--threads': o.threads = num(flag, val()); break;
      case '--repeats': o.repeats = num(flag, val()); break;
      case '--min-time': o.minTime = num(flag, val(), false); break;
      case '--min-steps': o.minSteps = num(flag, val()); break;
      case '--max-steps': o.maxSteps = num(flag, val()); break;
      case '--warmup': o.warmup = num(flag, val()); break;
      case '--batches': o.batches = String(val()).split(',').map((b) => num(flag, b)); break;
      case '--python': o.python = String(val()); break;
      case '--peak-gflops': o.peakGflops = num(flag, val(), false); break;
      case '--max-others': o.maxOthers = num(flag, val(), false); break;
      case '--budget': o.budget = num(flag, val(), false); break;
      case '--cnn-repeats': o.cnnRepeats = num(flag, val()); break;
      case '--cnn-min-time': o.cnnMinTime = num(flag, val(), false); break;
      case '--cnn-budget': o.cnnBudget = num(flag, val(), false); break;
      case '--models': {
        const names: string[] = [];
        if (inline !== undefined) names.push(inline);
        else while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) names.push(argv[++i]!);
        const list = names.flatMap((x) => x.split(',')).map((x) => x.trim().toLowerCase()).filter(Boolean);
        const bad = list.filter((x) => !MODEL_NAMES.includes(x as ModelName));
        if (!list.length || bad.length) {
          console.error(`bench: --models takes one or more of ${MODEL_NAMES.join(', ')}, got ${JSON.stringify(names.join(' '))}`);
          process.exit(2);
        }
        o.models = MODEL_NAMES.filter((m) => list.includes(m)); // fixed order: MLP first
        break;
      }
      case '--no-torch': o.torch = false; break;
      case '--no-rss': o.rss = false; break;
      case '-h': case '--help':
        console.log(readFileSync(new URL(import.meta.url), 'utf8').match(/\/\*\*([\s\S]*?)\*\//)?.[1]?.replace(/^ \* ?/gm, '') ?? '');
        process.exit(0);
        break; // not reached; no-fallthrough does not know that process.exit never returns
      default:
        console.error(`bench: unknown option ${a} (try --help)`);
        process.exit(2);
    }
  }
  return o;
}

// ----- workloads -----------------------------------------------------------------------------

type Opt = 'sgd' | 'adam';

/** One model's settings: the project our side runs, its forward FLOPs per sample, and its repeat plan. */
interface ModelSpec {
  model: ModelName;
  label: string;
  description: string;
  /** project path relative to the package root */
  project: string;
  fwdFlops: number;
  repeats: number;
  minTime: number;
  /** seconds (from the start of this model's section) after which contended pairs are not rerun */
  budget: number;
}

interface Workload { name: string; spec: ModelSpec; batch: number; mode: 'train' | 'infer'; opt: Opt | '-' }

/** The quickstart MLP: 2 FLOPs per multiply-add of the three Linear layers. */
const MLP_LAYERS: [number, number][] = [[784, 512], [512, 512], [512, 10]];
const MLP_FWD_FLOPS = MLP_LAYERS.reduce((s, [i, o]) => s + 2 * i * o, 0); // 1,337,344

/** torch_bench.py's cnn, 2 FLOPs per multiply-add of the Conv2d (valid, stride 1) and Linear layers. */
const conv = (hwOut: number, cout: number, cin: number, k: number) => 2 * hwOut * hwOut * cout * cin * k * k;
const CNN_FWD_FLOPS =
  conv(26, 32, 1, 3) + // conv1:    389,376
  conv(24, 64, 32, 3) + // conv2: 21,233,664
  2 * 9216 * 128 + // fc1:       2,359,296
  2 * 128 * 10; // fc2:              2,560  -> 23,984,896

function modelSpecs(o: Options): Record<ModelName, ModelSpec> {
  return {
    mlp: { model: 'mlp', label: 'MLP', description: 'quickstart MLP 784-512-512-10', project: 'assets/templates/quickstart.json', fwdFlops: MLP_FWD_FLOPS, repeats: o.repeats, minTime: o.minTime, budget: o.budget },
    cnn: { model: 'cnn', label: 'CNN', description: 'CNN conv3x3(32)-conv3x3(64)-maxpool2-fc128-fc10', project: 'test/bench/cnn.json', fwdFlops: CNN_FWD_FLOPS, repeats: o.cnnRepeats, minTime: o.cnnMinTime, budget: o.cnnBudget },
  };
}

/** Training = forward + backward (2x forward) + a negligible optimizer step: 3x forward. */
const flopsPerSample = (w: Workload) => w.spec.fwdFlops * (w.mode === 'train' ? 3 : 1);

/** cpu: process CPU seconds / wall seconds / threads during each timed repeat (~1 = had its cores). */
interface Stats { median: number; min: number; max: number; all: number[]; steps: number[]; cpu: number[] }

function stats(sps: number[], steps: number[], cpu: number[]): Stats {
  const s = [...sps].sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: m, min: s[0]!, max: s[s.length - 1]!, all: sps, steps, cpu };
}

// ----- other processes' CPU use (the load average misleads on some VMs: it read 1.3 on idle CPUs) -----

const HZ = 100; // USER_HZ: /proc times are in 1/100 s on Linux

/** Busy jiffies of the whole machine, from /proc/stat's cpu line (undefined where /proc is absent). */
function machineBusy(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  } catch {
    return undefined;
  }
}

/** utime + stime jiffies of a process (all its threads). */
function processCpu(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // fields 14 and 15
  } catch {
    return 0;
  }
}

/** Measures the cores used by processes other than this one and `child` over a window. */
class OthersMeter {
  private b0?: number;
  private s0 = 0;
  private c0 = 0;
  private t0 = 0;
  constructor(private readonly child?: () => number | undefined) {}
  start(): void {
    this.b0 = machineBusy();
    this.s0 = processCpu(process.pid);
    const c = this.child?.();
    this.c0 = c ? processCpu(c) : 0;
    this.t0 = performance.now();
  }
  /** Average cores the rest of the machine used since start(), or undefined if unknown. */
  stop(): number | undefined {
    const b1 = machineBusy();
    if (this.b0 === undefined || b1 === undefined) return undefined;
    const c = this.child?.();
    const own = processCpu(process.pid) - this.s0 + (c ? processCpu(c) - this.c0 : 0);
    const secs = (performance.now() - this.t0) / 1000;
    return Math.max(0, (b1 - this.b0 - own) / HZ / secs);
  }
}

// ----- ours ----------------------------------------------------------------------------------

class Ours {
  private job?: Job;
  private secPerStep = 0;
  constructor(private readonly w: Workload, private readonly o: Options) {}

  async start(projectPath: string): Promise<void> {
    const project = await readProject(projectPath);
    this.job = await prepareJob(project, projectPath, { batchSize: this.w.batch, optimizer: this.w.opt === 'adam' ? 'adam' : 'sgd', lr: 1e-3, threads: this.o.threads });
    const r = await this.steps(this.o.warmup);
    this.secPerStep = r.seconds / r.steps;
  }

  get session() {
    return this.job!.session;
  }

  /** Runs n contiguous in-order steps as whole native epochs (several when n batches exceed the data). */
  private async steps(n: number): Promise<{ seconds: number; steps: number }> {
    const job = this.job!;
    const b = this.w.batch;
    const perEpoch = Math.floor(job.trainCount / b);
    let seconds = 0, done = 0;
    while (done < n) {
      const k = Math.min(perEpoch, n - done);
      const r = await job.session.runEpoch('train', { count: k * b, batch: b, dropLast: true, train: this.w.mode === 'train' });
      if (r.batches !== k || r.samples !== k * b) throw new Error(`native epoch ran ${r.batches} batches, expected ${k}`);
      seconds += r.seconds;
      done += k;
    }
    return { seconds, steps: done };
  }

  /** One repeat: 1 warm-up step, then enough steps for about --min-time (from the last measured rate). */
  async repeat(): Promise<{ samplesPerSec: number; steps: number; cpuBusy: number }> {
    await this.steps(1);
    const n = Math.max(this.o.minSteps, Math.min(this.o.maxSteps, Math.ceil(this.w.spec.minTime / Math.max(this.secPerStep, 1e-9))));
    const c0 = process.cpuUsage(), w0 = performance.now();
    const r = await this.steps(n);
    const c = process.cpuUsage(c0), wall = (performance.now() - w0) / 1e3;
    this.secPerStep = r.seconds / r.steps;
    return { samplesPerSec: this.w.batch / this.secPerStep, steps: r.steps, cpuBusy: (c.user + c.system) / 1e6 / wall / this.o.threads };
  }
}

// ----- PyTorch (torch_bench.py --serve) --------------------------------------------------------

const OPENBLAS_OMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
const JEMALLOC = ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/libjemalloc.so.2'];

function fairTorchEnv(): { env: NodeJS.ProcessEnv; notes: string[] } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const notes: string[] = [];
  delete env.OPENBLAS_CORETYPE; // forced to Haswell they halve OpenBLAS' speed (anchors' README)
  delete env.OPENBLAS_L2_SIZE;
  delete env.OMP_NUM_THREADS; // torch.set_num_threads decides
  if (existsSync(OPENBLAS_OMP)) env.LD_LIBRARY_PATH = [OPENBLAS_OMP, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  else notes.push(`${OPENBLAS_OMP} missing: PyTorch uses the system BLAS (install libopenblas0-openmp for a fair comparison)`);
  const je = JEMALLOC.find((p) => existsSync(p));
  if (je) {
    env.LD_PRELOAD = [je, process.env.LD_PRELOAD].filter(Boolean).join(':');
    env.MALLOC_CONF = 'dirty_decay_ms:-1,muzzy_decay_ms:-1';
  } else notes.push('jemalloc missing: PyTorch uses glibc malloc (install libjemalloc2)');
  return { env, notes };
}

class Torch {
  private child: ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private waiting?: (line: string | null) => void;
  private closed = false;
  private stderr = '';

  constructor(python: string, script: string, root: string, o: Options, env: NodeJS.ProcessEnv) {
    this.child = spawn(python, [script, '--serve', '--root', root, '--threads', String(o.threads), '--warmup', String(o.warmup),
      '--min-time', String(o.minTime), '--min-steps', String(o.minSteps), '--max-steps', String(o.maxSteps)], { env, stdio: 'pipe' });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(l); } else this.lines.push(l);
    });
    const close = () => {
      this.closed = true;
      if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(null); }
    };
    this.child.on('exit', close);
    this.child.on('error', (e) => { this.stderr += String(e); close(); });
  }

  async request(req: object): Promise<Record<string, unknown>> {
    if (this.closed) throw new Error(`PyTorch process ended: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.child.stdin.write(JSON.stringify(req) + '\n');
    const line = this.lines.shift() ?? (await new Promise<string | null>((res) => { this.waiting = res; }));
    if (line === null) throw new Error(`PyTorch process ended: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const r = JSON.parse(line) as Record<string, unknown>;
    if (r.ok !== true) throw new Error(`PyTorch: ${String(r.error)}`);
    return r;
  }

  async quit(): Promise<number | undefined> {
    try {
      const r = await this.request({ cmd: 'quit' });
      return r.peak_rss_mib as number;
    } catch {
      return undefined;
    } finally {
      this.child.stdin.end();
    }
  }

  kill(): void {
    if (!this.closed) this.child.kill();
  }

  get pid(): number | undefined {
    return this.closed ? undefined : this.child.pid;
  }
}

// ----- peak FLOP/s -----------------------------------------------------------------------------

const FMA_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(__AVX512F__)
#define VB 64
#elif defined(__AVX__)
#define VB 32
#else
#define VB 16
#endif
typedef float v __attribute__((vector_size(VB)));
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char **argv) {
  int trials = atoi(argv[1]); long iters = atol(argv[2]);
  v acc[12], m, a; float sink = 0; double best = 0;
  for (int l = 0; l < VB / 4; l++) { m[l] = 0.9999999f; a[l] = 1e-7f; }
  for (int t = 0; t < trials; t++) {
    for (int k = 0; k < 12; k++) acc[k] = a * (float)(k + t);
    double t0 = now();
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
      for (int k = 0; k < 12; k++) acc[k] = acc[k] * m + a;
    }
    double dt = now() - t0;
    for (int k = 0; k < 12; k++) sink += acc[k][0];
    double g = 12.0 * (VB / 4) * 2.0 * iters / dt / 1e9;
    if (g > best) best = g;
  }
  printf("%d %.1f %g\n", VB * 8, best, sink);
  return 0;
}
`;

interface Peak { gflops: number; method: string; perCore?: number; vectorBits?: number }

/** One thread's best FMA throughput over many ~2 ms windows (load on the machine rarely hits all), x threads. */
function measurePeak(o: Options, simd: string): Peak {
  if (o.peakGflops) return { gflops: o.peakGflops, method: '--peak-gflops' };
  const fallback = (why: string): Peak => {
    const lanes = simd.includes('512') ? 16 : simd.includes('avx') ? 8 : 4;
    const mhz = Math.max(...os.cpus().map((c) => c.speed || 0), 1000);
    return { gflops: o.threads * 2 * lanes * 2 * mhz / 1000, method: `nominal: ${o.threads} thr x 2 FMA x ${lanes} lanes x 2 x ${(mhz / 1000).toFixed(2)} GHz (reported clock; ${why})` };
  };
  try {
    const dir = path.join(os.tmpdir(), 'netloom-bench');
    mkdirSync(dir, { recursive: true });
    const exe = path.join(dir, `fma-${createHash('sha1').update(FMA_SOURCE).digest('hex').slice(0, 12)}`);
    if (!existsSync(exe)) {
      writeFileSync(`${exe}.c`, FMA_SOURCE);
      const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-march=native', '-ffp-contract=fast', '-o', exe, `${exe}.c`], { encoding: 'utf8' });
      if (cc.status !== 0) return fallback(`no C compiler to measure it: ${(cc.stderr || String(cc.error)).trim().split('\n')[0]}`);
    }
    const r = spawnSync(exe, ['60', '400000'], { encoding: 'utf8' });
    const [bits, best] = r.stdout.trim().split(' ').map(Number);
    if (r.status !== 0 || !(best! > 0)) return fallback('FMA loop failed');
    return { gflops: best! * o.threads, perCore: best!, vectorBits: bits!, method: `FMA loop (${bits}-bit vectors), best of 60 windows on 1 thread = ${best!.toFixed(1)} GFLOP/s, x ${o.threads} threads` };
  } catch (e) {
    return fallback(String(e));
  }
}

// ----- peak RSS of the CLI -----------------------------------------------------------------------

interface RssResult { peakRssMib?: number; method: string; seconds: number; exitCode: number | null; lastLines: string[] }

async function cliPeakRss(root: string): Promise<RssResult> {
  const cli = path.join(root, 'dist', 'engine', 'host', 'cli.js');
  const args = [cli, 'train', path.join(root, 'assets', 'templates', 'quickstart.json'), '--epochs', '1'];
  const useTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const child = useTime ? spawn('/usr/bin/time', ['-v', process.execPath, ...args], { cwd: root }) : spawn(process.execPath, args, { cwd: root });
  let out = '', err = '', hwmKib = 0;
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const poll = useTime ? undefined : setInterval(() => {
    try {
      const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
      if (m) hwmKib = Math.max(hwmKib, Number(m[1]));
    } catch { /* exited */ }
  }, 20);
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  if (poll) clearInterval(poll);
  const seconds = (performance.now() - t0) / 1000;
  const lastLines = out.trim().split('\n').filter((l) => /samples\/s|Accuracy/.test(l)).slice(-2);
  if (useTime) {
    const m = err.match(/Maximum resident set size \(kbytes\):\s*(\d+)/);
    return { peakRssMib: m ? Number(m[1]) / 1024 : undefined, method: '/usr/bin/time -v (max RSS)', seconds, exitCode: code, lastLines };
  }
  return { peakRssMib: hwmKib ? hwmKib / 1024 : undefined, method: '/proc/<pid>/status VmHWM, polled every 20 ms', seconds, exitCode: code, lastLines };
}

// ----- main ----------------------------------------------------------------------------------------

const fmt = (n: number | undefined, d = 0) => (n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
const round = (n: number | undefined, d = 1) => (n === undefined ? null : Math.round(n * 10 ** d) / 10 ** d);
const loadavg = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const root = packageRoot();
  const allSpecs = modelSpecs(o);
  const specs = o.models.map((m) => allSpecs[m]);
  const t0 = performance.now();
  const loadBefore = loadavg();
  const dev = loadBinding().deviceInfo();
  const cpuModel = os.cpus()[0]?.model ?? dev.cpuModel;
  const plan = (s: ModelSpec) => `${s.label} ${s.repeats} repeats of ~${s.minTime} s`;
  console.log(`Netloom bench: ${specs.map((s) => s.description).join(' and ')} on FashionMNIST, ${o.threads} thread(s); ` +
    `${specs.map(plan).join(', ')} (>= ${o.minSteps}, <= ${o.maxSteps} steps each)`);
  if (specs.some((s) => s.model === 'cnn') && (o.cnnRepeats < o.repeats || o.cnnMinTime < o.minTime))
    console.log(`note: the CNN runs fewer/shorter repeats than the MLP (${plan(allSpecs.cnn)} vs ${plan(allSpecs.mlp)}) to keep the bench to ~4-5 min`);
  console.log(`CPU: ${cpuModel} (${dev.simd}, ${dev.hardwareThreads} hardware threads), node ${process.version}, load average before ${loadBefore.join(' ')}`);
  if (o.threads > dev.hardwareThreads) console.log(`warning: ${o.threads} threads on ${dev.hardwareThreads} hardware threads: oversubscribed, figures mean little`);
  const peak = measurePeak(o, dev.simd);
  console.log(`fp32 peak ${fmt(peak.gflops)} GFLOP/s (${peak.method})`);

  const workloads: Workload[] = specs.flatMap((spec) => o.batches.flatMap((b): Workload[] => [
    { name: `${spec.label} b${b} SGD`, spec, batch: b, mode: 'train', opt: 'sgd' },
    { name: `${spec.label} b${b} Adam`, spec, batch: b, mode: 'train', opt: 'adam' },
    { name: `${spec.label} b${b} inference`, spec, batch: b, mode: 'infer', opt: '-' },
  ]));

  // PyTorch: fair environment, same data files, one long-lived process.
  let torch: Torch | undefined;
  let torchInfo: Record<string, unknown> | undefined;
  let torchSkipped: string | undefined;
  const { env, notes } = fairTorchEnv();
  if (!o.torch) torchSkipped = '--no-torch';
  else {
    const probe = spawnSync(o.python, ['-c', 'import torch'], { env, encoding: 'utf8' });
    if (probe.status !== 0) torchSkipped = `${o.python} -c "import torch" failed: ${(probe.stderr || String(probe.error)).trim().split('\n').pop()}`;
  }
  // the data files the engine reads: <root>/FashionMNIST/raw -> root
  const { loadDataset } = await import('../../engine/data/datasets.js');
  const dataRoot = path.dirname(path.dirname((await loadDataset('fashion-mnist')).source));
  if (!torchSkipped) {
    for (const n of notes) console.log(`note: ${n}`);
    torch = new Torch(o.python, path.join(root, 'test', 'bench', 'torch_bench.py'), dataRoot, o, env);
    try {
      torchInfo = await torch.request({ cmd: 'info' });
      console.log(`PyTorch ${String(torchInfo.torch)}, ${String(torchInfo.threads)} threads, BLAS ${String(torchInfo.blas)}, jemalloc ${String(torchInfo.jemalloc)}; data ${dataRoot}`);
    } catch (e) {
      torchSkipped = `PyTorch failed to start: ${(e as Error).message}`;
      torch.kill();
      torch = undefined;
    }
  }
  if (torchSkipped) console.log(`PyTorch skipped: ${torchSkipped}`);
  console.log('');

  interface Row {
    w: Workload; ours: Stats; torch?: Stats; pairRatios: number[]; loadAfter: number[];
    pairsRun: number; pairsClean: number; contended: boolean; others: (number | undefined)[];
  }
  const rows: Row[] = [];
  let torchError: string | undefined;
  const sectionStart = new Map<ModelName, number>();
  for (const w of workloads) {
    if (!sectionStart.has(w.spec.model)) sectionStart.set(w.spec.model, performance.now());
    const t1 = sectionStart.get(w.spec.model)!;
    const repeats = w.spec.repeats;
    const ours = new Ours(w, o);
    await ours.start(path.join(root, w.spec.project));
    interface Pair { ours?: { sps: number; steps: number; cpu: number }; torch?: { sps: number; steps: number; cpu: number }; others?: number }
    const pairs: Pair[] = [];
    const isClean = (p: Pair) => p.others === undefined || p.others <= o.maxOthers;
    for (let r = 0; ; r++) {
      const clean = pairs.filter(isClean).length;
      if (clean >= repeats || r >= 2 * repeats || (r >= repeats && (performance.now() - t1) / 1000 > w.spec.budget)) break;
      if (pairs.length && !isClean(pairs[pairs.length - 1]!)) await sleep(500); // let a passing load pass
      const pair: Pair = {};
      const meter = new OthersMeter(() => torch?.pid);
      meter.start();
      const order: ('ours' | 'torch')[] = r % 2 === 0 ? ['ours', 'torch'] : ['torch', 'ours'];
      for (const who of order) {
        if (who === 'ours') {
          const x = await ours.repeat();
          pair.ours = { sps: x.samplesPerSec, steps: x.steps, cpu: x.cpuBusy };
        } else if (torch) {
          try {
            const x = await torch.request({ cmd: 'run', model: w.spec.model, batch: w.batch, mode: w.mode, opt: w.opt, min_time: w.spec.minTime });
            pair.torch = { sps: x.samples_per_s as number, steps: x.steps as number, cpu: (x.cpu_busy as number) / o.threads };
          } catch (e) {
            torchError = (e as Error).message;
            console.log(`PyTorch stopped: ${torchError}`);
            torch.kill();
            torch = undefined;
          }
        }
        await sleep(20); // let the other side's spinning workers go to sleep
      }
      pair.others = meter.stop();
      pairs.push(pair);
    }
    const cleanPairs = pairs.filter(isClean);
    const used = cleanPairs.length >= Math.min(3, repeats) ? cleanPairs : pairs;
    const st = (side: 'ours' | 'torch') => {
      const xs = used.map((p) => p[side]).filter((x) => x !== undefined);
      return xs.length ? stats(xs.map((x) => x.sps), xs.map((x) => x.steps), xs.map((x) => x.cpu)) : undefined;
    };
    const row: Row = {
      w, ours: st('ours')!, torch: st('torch'), pairRatios: used.filter((p) => p.ours && p.torch).map((p) => p.ours!.sps / p.torch!.sps),
      loadAfter: loadavg(), pairsRun: pairs.length, pairsClean: cleanPairs.length, contended: used !== cleanPairs,
      others: pairs.map((p) => p.others),
    };
    rows.push(row);
    const tt = row.torch ? `  PyTorch ${k(row.torch.median)} (${k(row.torch.min)}..${k(row.torch.max)})  ratio ${(row.ours.median / row.torch.median).toFixed(2)}` : '';
    const busy = (s: Stats) => `${Math.round(100 * Math.min(...s.cpu))}%`;
    console.log(`${w.name.padEnd(18)} ours ${k(row.ours.median)} (${k(row.ours.min)}..${k(row.ours.max)}) samples/s${tt}  ` +
      `[${row.pairsClean}/${row.pairsRun} pairs clean${row.contended ? ' (CONTENDED: all pairs used)' : ''}; others used up to ` +
      `${Math.max(0, ...row.others.map((x) => x ?? 0)).toFixed(2)} cores; min CPU busy ours ${busy(row.ours)}${row.torch ? `, PyTorch ${busy(row.torch)}` : ''}]`);
  }
  const torchRss = torch ? await torch.quit() : undefined;

  let rss: RssResult | undefined;
  if (o.rss) {
    rss = await cliPeakRss(root);
    console.log(`quickstart CLI (train --epochs 1): peak RSS ${fmt(rss.peakRssMib, 1)} MiB, ${rss.seconds.toFixed(1)} s, exit ${rss.exitCode} [${rss.lastLines.join(' / ')}]`);
  }
  const loadAfter = loadavg();

  // ----- table -----
  const hdr = ['workload', 'ours samples/s (min..max)', 'PyTorch samples/s (min..max)', 'ours/PyTorch (pairs)', 'ours GFLOP/s', 'ours % peak', 'PyTorch % peak'];
  const table = rows.map((r) => {
    const g = (r.ours.median * flopsPerSample(r.w)) / 1e9;
    const tg = r.torch ? (r.torch.median * flopsPerSample(r.w)) / 1e9 : undefined;
    const pr = [...r.pairRatios].sort((a, b) => a - b);
    return [
      r.w.name + (r.contended ? ' *' : ''),
      `${fmt(r.ours.median)} (${k(r.ours.min)}..${k(r.ours.max)})`,
      r.torch ? `${fmt(r.torch.median)} (${k(r.torch.min)}..${k(r.torch.max)})` : 'skipped',
      r.torch ? `${(r.ours.median / r.torch.median).toFixed(2)} (${pr[0]!.toFixed(2)}..${pr[pr.length - 1]!.toFixed(2)})` : '-',
      fmt(g, 1),
      `${fmt((100 * g) / peak.gflops, 1)}%`,
      tg === undefined ? '-' : `${fmt((100 * tg) / peak.gflops, 1)}%`,
    ];
  });
  const widths = hdr.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  console.log('');
  console.log(line(hdr));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const t of table) console.log(line(t));
  console.log('');
  console.log(`ratio > 1: Netloom is faster. Median of ${specs.map((s) => `${s.repeats} repeats of ~${s.minTime} s each (${s.label})`).join(', ')}; "pairs" = range of ours/PyTorch over repeats run back to back.`);
  console.log(`FLOPs/sample: ${specs.map((s) => `${s.label} ${(s.fwdFlops / 1e6).toFixed(2)} MFLOP`).join(', ')} forward, training = 3x. Peak ${fmt(peak.gflops)} GFLOP/s.`);
  const contended = rows.filter((r) => r.contended).map((r) => r.w.name);
  const rerun = rows.reduce((s, r) => s + r.pairsRun - Math.min(r.pairsRun, r.w.spec.repeats), 0);
  console.log(`Contention: ${rows.reduce((s, r) => s + r.pairsClean, 0)} of ${rows.reduce((s, r) => s + r.pairsRun, 0)} pairs clean ` +
    `(other processes <= ${o.maxOthers} cores, from /proc/stat); ${rerun} pair(s) rerun.` +
    (contended.length ? ` * = fewer than 3 (or all repeats) clean pairs, figures include contended repeats: ${contended.join(', ')}; rerun before quoting them.` : ''));
  if (torchSkipped) console.log(`PyTorch was skipped: ${torchSkipped}`);
  if (torchError) console.log(`PyTorch failed during the run: ${torchError}`);
  if (torchRss !== undefined) console.log(`PyTorch process peak RSS ${fmt(torchRss)} MiB (includes its 179 MiB float32 copy of the images)`);
  if (rss) console.log(`quickstart CLI peak RSS ${fmt(rss.peakRssMib, 1)} MiB (target < 300 MiB: ${rss.peakRssMib !== undefined && rss.peakRssMib < 300 ? 'met' : 'NOT met'})`);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`CPU ${cpuModel}; load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')} (1/5/15 min; "after" includes this bench's own ${o.threads} threads; /proc/stat above is the better contention signal); bench took ${seconds.toFixed(0)} s`);

  const side = (s: Stats | undefined, w: Workload) => s && {
    samples_per_s_median: round(s.median), samples_per_s_min: round(s.min), samples_per_s_max: round(s.max),
    samples_per_s_all: s.all.map((x) => round(x)), steps_timed: s.steps, cpu_busy: s.cpu.map((x) => round(x, 2)), ms_per_step_median: round((1e3 * w.batch) / s.median, 3),
    gflops: round((s.median * flopsPerSample(w)) / 1e9), pct_peak: round((100 * s.median * flopsPerSample(w)) / 1e9 / peak.gflops),
  };
  console.log(JSON.stringify({
    bench: 'netloom', version: 2, models: o.models, date: new Date().toISOString(), seconds: round(seconds),
    threads: o.threads, repeats: o.repeats, min_time_s: o.minTime, max_others_cores: o.maxOthers, max_steps: o.maxSteps, warmup_steps: o.warmup,
    cpu: { model: cpuModel, simd: dev.simd, hardware_threads: dev.hardwareThreads, peak_gflops: round(peak.gflops), peak_method: peak.method },
    loadavg_before: loadBefore, loadavg_after: loadAfter, node: process.version,
    model_settings: Object.fromEntries(specs.map((s) => [s.model, { project: s.project, flops_per_sample_forward: s.fwdFlops, repeats: s.repeats, min_time_s: s.minTime, budget_s: s.budget }])),
    pytorch: torchSkipped ? { skipped: torchSkipped } : { ...torchInfo, ok: undefined, error: torchError, peak_rss_mib: round(torchRss) },
    cli_quickstart: rss ? { peak_rss_mib: round(rss.peakRssMib), method: rss.method, seconds: round(rss.seconds, 2), exit_code: rss.exitCode, target_rss_mib: 300 } : null,
    rows: rows.map((r) => ({
      workload: r.w.name, model: r.w.spec.model, batch: r.w.batch, mode: r.w.mode, opt: r.w.opt,
      flops_per_sample: flopsPerSample(r.w), repeats: r.w.spec.repeats, min_time_s: r.w.spec.minTime,
      ours: side(r.ours, r.w), pytorch: side(r.torch, r.w) ?? null,
      ratio: r.torch ? round(r.ours.median / r.torch.median, 3) : null,
      pair_ratios: r.pairRatios.map((x) => round(x, 3)), loadavg_after: r.loadAfter,
      pairs_run: r.pairsRun, pairs_clean: r.pairsClean, contended: r.contended, others_cores_per_pair: r.others.map((x) => round(x, 2) ?? null),
    })),
  }));
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
