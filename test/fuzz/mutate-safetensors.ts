/**
 * Structure-aware mutations of a safetensors checkpoint (u64 header length | JSON header | data):
 * tensor entries (offsets, dtypes, shapes), their names (__proto__, duplicates, the metadata key),
 * the metadata Netloom resumes from (netloom.epoch 2^53-1, junk optimizer JSON), the length field,
 * the header's padding and encoding, and the data (cut, grown, NaN and Inf weights).
 */
import type { Gen } from './gen.js';
import { copyOf, mutateBytes } from './mutate-bytes.js';
import { describe, EXTRA, interestingValue, mutateJson, Raw, setOwn, toJsonText, type JsonLike } from './mutate-json.js';

type Obj = Record<string, JsonLike>;

export interface SafetensorsParts {
  header: Obj;
  data: Uint8Array;
}

export function splitSafetensors(bytes: Uint8Array): SafetensorsParts {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Obj, data: copyOf(bytes.subarray(8 + n)) };
}

/** Header text and data back into a file; `length` overrides the length field (a lie about the header). */
export function joinSafetensors(headerText: string, data: Uint8Array, o: { pad?: string; length?: bigint } = {}): Uint8Array {
  const json = Buffer.from(headerText, 'utf8');
  const padded = o.pad === undefined ? json.length : Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + data.length);
  new DataView(out.buffer).setBigUint64(0, o.length ?? BigInt(padded), true);
  out.set(json, 8);
  out.fill((o.pad ?? ' ').charCodeAt(0), 8 + json.length, 8 + padded);
  out.set(data, 8 + padded);
  return out;
}

const DTYPES = ['F32', 'F64', 'F16', 'BF16', 'I64', 'I32', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'f32', '', 'F32 '];
const TENSOR_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', '', '__metadata__', 'optimizer.state.', 'optimizer.state.__proto__.exp_avg', 'a'.repeat(70_000), 'net.0.weight\u0000', 'ü.weight'];
const METADATA_KEYS = ['netloom.epoch', 'netloom.batch', 'netloom.step', 'netloom.phase', 'netloom.scheduler_step', 'netloom.seed', 'netloom.optimizer', 'netloom.best_epoch', 'format', 'producer', 'project', '__proto__'];
const METADATA_VALUES = ['9007199254740991', '9007199254740993', '-1', '0', '1', '1.5', 'NaN', 'Infinity', '1e308', '', ' 2', '0x10', 'test', 'train',
  '{"type":"Adam","lr":1e308}', '{"type":"SGD"', '{"__proto__":{"x":1}}', 'null', '[]', '"SGD"', 'x'.repeat(100_000)];

function entries(h: Obj): [string, Obj][] {
  return Object.keys(h).filter((k) => k !== '__metadata__' && h[k] !== null && typeof h[k] === 'object' && !Array.isArray(h[k])).map((k) => [k, h[k] as Obj]);
}

type HeaderOp = (g: Gen, h: Obj, data: Uint8Array) => string;

const HEADER_OPS: Record<string, readonly [number, HeaderOp]> = {
  offsets: [4, (g, h) => {
    const es = entries(h);
    if (!es.length) return 'no tensor';
    const [name, e] = g.pick(es);
    const offs = Array.isArray(e.data_offsets) ? (e.data_offsets as number[]) : [0, 0];
    const v: JsonLike = g.pick<() => JsonLike>([
      () => [offs[0] + g.pick([-8, -4, -1, 1, 4, 8]), offs[1]],
      () => [offs[0], offs[1] + g.pick([-4, -1, 1, 4, 1 << 20])],
      () => [offs[1], offs[0]],
      () => [0, offs[1] - offs[0]],
      () => [2 ** 53 - 1, 2 ** 53 - 1],
      () => [new Raw('18446744073709551615'), new Raw('18446744073709551615')] as JsonLike,
      () => [-4, offs[1]],
      () => [offs[0] + 0.5, offs[1] + 0.5],
      () => [offs[0]],
      () => [offs[0], offs[1], 0],
      () => `${offs[0]}`,
      () => null,
    ])();
    e.data_offsets = v;
    return `${name.slice(0, 40)}.data_offsets = ${describe(v)}`;
  }],
  dtype: [3, (g, h) => {
    const es = entries(h);
    if (!es.length) return 'no tensor';
    const [name, e] = g.pick(es);
    e.dtype = g.chance(0.9) ? g.pick(DTYPES) : interestingValue(g);
    return `${name.slice(0, 40)}.dtype = ${describe(e.dtype)}`;
  }],
  shape: [4, (g, h) => {
    const es = entries(h);
    if (!es.length) return 'no tensor';
    const [name, e] = g.pick(es);
    const s = Array.isArray(e.shape) ? (e.shape as number[]) : [];
    e.shape = g.pick<() => JsonLike>([
      () => [],
      () => [0],
      () => [...s].reverse(),
      () => [...s, 1],
      () => s.slice(1),
      () => s.map((d) => d * 2),
      () => [-1, ...s.slice(1)],
      () => [2 ** 31, 2 ** 31, 0],
      () => [2 ** 26, 2 ** 26, 2 ** 26],
      () => [2 ** 53, 1],
      () => [1.5],
      () => [[1]],
      () => Array.from({ length: 1000 }, () => 1),
      () => 'auto',
    ])();
    return `${name.slice(0, 40)}.shape = ${describe(e.shape)}`;
  }],
  dropField: [1, (g, h) => {
    const es = entries(h);
    if (!es.length) return 'no tensor';
    const [name, e] = g.pick(es);
    const f = g.pick(['dtype', 'shape', 'data_offsets']);
    delete e[f];
    return `${name.slice(0, 40)} without ${f}`;
  }],
  rename: [3, (g, h) => {
    const es = entries(h);
    if (!es.length) return 'no tensor';
    const [name, e] = g.pick(es);
    const to = g.pick(TENSOR_NAMES);
    delete h[name];
    if (to === '__metadata__' && g.chance(0.5)) h.__metadata__ = e;
    else setOwn(h, to, e);
    return `tensor ${name.slice(0, 40)} renamed ${JSON.stringify(to.slice(0, 40))}`;
  }],
  duplicateTensor: [3, (g, h) => {
    const es = entries(h);
    if (!es.length) return 'no tensor';
    const [name, e] = g.pick(es);
    // the same name twice in the header: the last entry may point elsewhere
    const copy: Obj = { ...e };
    if (g.chance(0.5)) copy.shape = [1];
    const extra = ((h as Obj & { [EXTRA]?: [string, JsonLike][] })[EXTRA] ??= []);
    extra.push([name, copy]);
    return `tensor ${name.slice(0, 40)} twice in the header`;
  }],
  metadata: [5, (g, h) => {
    if (h.__metadata__ === null || typeof h.__metadata__ !== 'object' || Array.isArray(h.__metadata__)) h.__metadata__ = {};
    const m = h.__metadata__ as Obj;
    const k = g.pick(METADATA_KEYS);
    const v = g.chance(0.85) ? g.pick(METADATA_VALUES) : interestingValue(g);
    setOwn(m, k, v);
    return `metadata ${k} = ${describe(v)}`;
  }],
  resumable: [4, (g, h) => {
    // a plausible training position with one value forged
    const m: Obj = { format: 'pt', producer: 'netloom', 'netloom.step': '4', 'netloom.epoch': '1', 'netloom.batch': '0', 'netloom.phase': 'train', 'netloom.scheduler_step': '4', 'netloom.seed': '0', 'netloom.optimizer': '{"type":"Adam","lr":0.01,"betas":[0.9,0.999],"eps":1e-8,"amsgrad":false,"maximize":false}' };
    const k = g.pick(METADATA_KEYS.slice(0, 7));
    m[k] = g.pick(METADATA_VALUES);
    h.__metadata__ = m;
    return `resume metadata with ${k} = ${describe(m[k])}`;
  }],
  metadataType: [1, (g, h) => {
    h.__metadata__ = g.pick<JsonLike>([null, [], 'x', 1, { a: 1 }, { a: null }]);
    return `__metadata__ = ${describe(h.__metadata__)}`;
  }],
  json: [3, (g, h) => mutateJson(g, h, { maxOps: 2 }).join('; ')],
};

const OPS = Object.values(HEADER_OPS);
const OP_NAMES = Object.keys(HEADER_OPS);

/** NaN, Inf, huge and denormal float32 values written over the data section (weights a load must name). */
function poisonData(g: Gen, data: Uint8Array): { data: Uint8Array; what: string } {
  const out = copyOf(data);
  const view = new DataView(out.buffer);
  const value = g.pick([NaN, Infinity, -Infinity, 3.4e38, 1e-45]);
  const n = Math.min(g.small(64), Math.floor(out.length / 4));
  for (let i = 0; i < n; i++) view.setFloat32(4 * g.int(Math.floor(out.length / 4)), value, true);
  return { data: out, what: `${n} data values = ${value}` };
}

/** The keys of a JSON object's text at its top level, in order and with repeats (JSON.parse keeps only the last). */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && /^\s*:/.test(text.slice(j + 1, j + 20))) {
        try {
          keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        } catch {
          // not a valid string: the header is damaged anyway
        }
      }
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

/**
 * Why a checkpoint must be refused though it parses (issue 10 item 6): a tensor named __proto__ (a plain
 * object drops it), or a name twice in the header (JSON.parse keeps the last silently).
 */
function mustRefuse(headerText: string): string | undefined {
  const keys = topLevelKeys(headerText);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice !== undefined) return `the key ${JSON.stringify(twice.slice(0, 40))} twice in the header`;
  if (keys.includes('__proto__')) return 'a tensor named "__proto__"';
  return undefined;
}

/** A damaged checkpoint made from a valid one; `mustRefuse` says why every reader must refuse it, when that is known. */
export function mutateSafetensors(g: Gen, seed: Uint8Array, other?: Uint8Array): { bytes: Uint8Array; what: string[]; mustRefuse?: string } {
  const mode = g.weighted([[6, 'header'], [2, 'length'], [2, 'data'], [2, 'bytes'], [1, 'encoding']] as const);
  const { header, data } = splitSafetensors(seed);
  const headerLen = Number(new DataView(seed.buffer, seed.byteOffset).getBigUint64(0, true));
  if (mode === 'bytes') {
    // blind edits, mostly inside the length field and the header
    const r = mutateBytes(g, seed, { focus: { start: 0, end: 8 + headerLen }, other });
    return { bytes: r.bytes, what: ['bytes', ...r.what] };
  }
  const what: string[] = [mode];
  let body = data;
  let length: bigint | undefined;
  let pad: string | undefined = ' ';
  if (mode === 'header') {
    const n = g.small(3);
    for (let i = 0; i < n; i++) {
      const k = g.weighted(OPS.map(([w], idx) => [w, idx] as const));
      what.push(`${OP_NAMES[k]}: ${OPS[k][1](g, header, data)}`);
    }
  } else if (mode === 'length') {
    const total = seed.length - 8;
    length = g.pick([0n, 1n, 2n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(total), BigInt(total + 1), 100_000_001n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]);
    what.push(`length field = ${length}`);
  } else if (mode === 'data') {
    const r = g.weighted<() => { data: Uint8Array; what: string }>([
      [3, () => poisonData(g, data)],
      [1, () => ({ data: copyOf(data.subarray(0, g.int(data.length))), what: 'data cut' })],
      [1, () => ({ data: new Uint8Array([...data, ...g.bytes(g.range(1, 64))]), what: 'data grown' })],
    ])();
    body = r.data;
    what.push(r.what);
  } else {
    pad = g.pick(['\u0000', '\n', undefined]);
    what.push(`header padded with ${JSON.stringify(pad ?? 'nothing')}`);
  }
  let text = toJsonText(header);
  if (mode === 'encoding' && g.chance(0.5)) {
    text = g.pick([`\ufeff${text}`, `${text}\u0000`, text.replace('{', '{\ud800')]);
    what.push('odd header text');
  }
  return { bytes: joinSafetensors(text, body, { pad, length }), what, mustRefuse: length === undefined ? mustRefuse(text) : undefined };
}
