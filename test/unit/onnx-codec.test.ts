/**
 * The ONNX protobuf layer: encode -> decode round trips, and every way a damaged or unsupported file is
 * refused (truncated, wrong wire types, external data, other operator sets, several unsupported
 * operators named at once), each with NL_BAD_CHECKPOINT / NL_UNSUPPORTED and what was wrong where.
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpointFile } from '../../engine/io/checkpoint.js';
import { MAX_CHECKPOINT_BYTES } from '../../engine/io/safetensors.js';
import { decodeModel, encodeModel } from '../../engine/io/onnx/codec.js';
import { DataType } from '../../engine/io/onnx/schema.js';
import { onnxStateDict } from '../../engine/io/onnx/state-dict.js';
import { decodeTensor, floatTensor, int64Tensor } from '../../engine/io/onnx/tensors.js';
import { importOnnx, importOnnxBytes } from '../../engine/io/onnx-import.js';
import { refusal, thrown } from '../support/rejection.js';
import { node, seeded, tinyModel } from './onnx-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-onnx-codec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('encode -> decode', () => {
  it('keeps the model, graph, nodes, attributes, tensors and metadata', () => {
    const m = tinyModel({ nodes: [node('LeakyRelu', ['fc_out'], ['output'], '/act/LeakyRelu', { attribute: [{ name: 'alpha', type: 1, f: 0.25 }] })] });
    const back = decodeModel(encodeModel(m), 'm.onnx');
    expect(back.ir_version).toBe(8);
    expect(back.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(back.metadata_props).toEqual([{ key: 'producer', value: 'test' }]);
    expect(back.graph!.node!.map((n) => [n.op_type, n.name, n.input, n.output])).toEqual([
      ['Gemm', '/fc/Gemm', ['input', 'fc.weight', 'fc.bias'], ['fc_out']],
      ['LeakyRelu', '/act/LeakyRelu', ['fc_out'], ['output']],
    ]);
    expect(back.graph!.node![1].attribute).toEqual([{ name: 'alpha', type: 1, f: 0.25 }]);
    expect(back.graph!.input![0].type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'N' }, { dim_value: 4 }]);
    const w = decodeTensor(back.graph!.initializer![0], 'fc.weight', 'm.onnx');
    expect(w.dims).toEqual([3, 4]);
    expect(Float32Array.from(w.data)).toEqual(seeded(12, 1));
  });

  it('reads tensors from raw_data and from the typed fields, int64 included', () => {
    expect(decodeTensor(int64Tensor('s', [2], [0, -1]), 's', 'x')).toEqual({ dims: [2], data: Float64Array.of(0, -1), integer: true });
    expect(decodeTensor({ dims: [2], data_type: DataType.FLOAT, float_data: [1.5, 2] }, 't', 'x').data).toEqual(Float64Array.of(1.5, 2));
    expect(decodeTensor({ dims: [1], data_type: DataType.INT64, int64_data: [7] }, 't', 'x')).toEqual({ dims: [1], data: Float64Array.of(7), integer: true });
    expect(decodeTensor({ dims: [1], data_type: DataType.DOUBLE, double_data: [0.1] }, 't', 'x').data[0]).toBe(0.1);
  });
});

describe('damaged files are refused', () => {
  const good = encodeModel(tinyModel());

  it('a truncated file: every cut of a model is refused with NL_BAD_CHECKPOINT, never a crash', () => {
    for (const cut of [1, 2, 10, good.length >> 1, good.length - 1]) {
      const e = thrown(() => importOnnxBytes(good.subarray(0, cut), 'cut.onnx'));
      expect(e.code, `cut at ${cut}`).toBe('NL_BAD_CHECKPOINT');
      expect(e.message).toMatch(/^cut\.onnx: /);
    }
    expect(thrown(() => decodeModel(good.subarray(0, good.length - 1), 'cut.onnx')).message).toMatch(/^cut\.onnx: not a valid ONNX model: the protobuf is truncated or damaged/);
    expect(thrown(() => decodeModel(new Uint8Array(0), 'empty.onnx')).message).toBe('empty.onnx: not a valid ONNX model: the file is empty');
  });

  it('a declared field with the wrong wire type, at the top and deep in the graph', () => {
    // ir_version (field 1, an int64) sent length-delimited
    expect(thrown(() => decodeModel(Uint8Array.of(0x0a, 0x01, 0x00), 'w.onnx'))).toMatchObject({
      code: 'NL_BAD_CHECKPOINT', message: 'w.onnx: not a valid ONNX model: ModelProto.ir_version (field 1) has the wire type length-delimited, which its type int64 cannot have',
    });
    // graph (7) { node (1) { op_type (4) as a varint } }
    expect(thrown(() => decodeModel(Uint8Array.of(0x08, 0x08, 0x3a, 0x04, 0x0a, 0x02, 0x20, 0x01), 'w.onnx')).message)
      .toBe('w.onnx: not a valid ONNX model: ModelProto.graph.node[0].op_type (field 4) has the wire type varint, which its type string cannot have');
  });

  it('an unknown field is skipped, as protobuf readers do', () => {
    const extra = Uint8Array.from([...good, 0xf8, 0x07, 0x01]); // field 127, varint
    expect(decodeModel(extra, 'x.onnx').graph!.node!.length).toBe(1);
  });

  it('tensors whose data does not fit their shape, or of types Netloom does not read', () => {
    expect(thrown(() => decodeTensor({ ...floatTensor('w', [3], seeded(2, 1)) }, 'the initialiser w', 'm.onnx')).message)
      .toBe('m.onnx: the initialiser w has 8 bytes of data, but its shape [3] needs 12');
    expect(thrown(() => decodeTensor({ name: 'w', dims: [2], data_type: DataType.FLOAT, float_data: [1] }, 'the initialiser w', 'm.onnx')).message)
      .toBe('m.onnx: the initialiser w has 1 values, but its shape [2] needs 2');
    expect(thrown(() => decodeTensor({ name: 'w', dims: [1], data_type: 8 }, 'the initialiser w', 'm.onnx')).message).toMatch(/holds STRING values/);
    expect(thrown(() => decodeTensor({ name: 'w', dims: [-1], data_type: 1 }, 'the initialiser w', 'm.onnx')).message).toMatch(/impossible dimension -1/);
    expect(thrown(() => decodeTensor({ name: 'w', dims: [1 << 20, 1 << 20], data_type: 1 }, 'the initialiser w', 'm.onnx')).message).toMatch(/larger than a checkpoint/);
  });
});

describe('unsupported models are refused, saying what and where', () => {
  it('external data, in the importer and the checkpoint reader', async () => {
    const m = tinyModel();
    m.graph!.initializer![0] = { name: 'fc.weight', dims: [3, 4], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'weights.bin' }] };
    const bytes = encodeModel(m);
    for (const e of [thrown(() => importOnnxBytes(bytes, 'ext.onnx')), thrown(() => onnxStateDict(bytes, 'ext.onnx'))])
      expect(e).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: 'ext.onnx: the initialiser fc.weight keeps its values in an external data file, which Netloom does not read', hint: expect.stringContaining('save_as_external_data=False') });
  });

  it('every unsupported operator at once, each by type and node, other operator sets included', () => {
    const m = tinyModel({
      nodes: [
        node('LSTM', ['fc_out'], ['h'], '/rnn/LSTM'),
        node('Slice', ['h'], ['s'], '/Slice'),
        node('FusedGemm', ['s'], ['output'], '/fused', { domain: 'com.microsoft' }),
      ],
    });
    expect(thrown(() => importOnnxBytes(encodeModel(m), 'model.onnx'))).toMatchObject({
      code: 'NL_UNSUPPORTED',
      message: 'model.onnx: Netloom has no layer for 3 operators: LSTM (node /rnn/LSTM), Slice (node /Slice), FusedGemm (node /fused) from the operator set "com.microsoft"',
    });
  });

  it('operators Netloom reads only in patterns, and settings its layers lack, all listed together', () => {
    const m = tinyModel({
      nodes: [
        node('Mul', ['fc_out', 'fc_out'], ['sq'], '/sq/Mul'),
        node('Relu', ['sq'], ['r'], '/relu/Relu'),
        node('Gemm', ['r', 'w2'], ['output'], '/fc2/Gemm', { attribute: [{ name: 'alpha', type: 1, f: 2 }] }),
      ],
      initializers: [floatTensor('w2', [3, 3], seeded(9, 3))],
    });
    const e = thrown(() => importOnnxBytes(encodeModel(m), 'model.onnx'));
    expect(e.code).toBe('NL_UNSUPPORTED');
    expect(e.message).toBe('model.onnx: Netloom cannot import 2 operators:\n'
      + '  - Mul (node /sq/Mul): Netloom has no layer for an elementwise Mul outside the GELU and SiLU patterns\n'
      + '  - Gemm (node /fc2/Gemm) is a Gemm with transA, alpha or beta other than nn.Linear\'s (transA=0, alpha=beta=1)');
  });

  it('other operator sets, local functions, several inputs or outputs, a symbolic feature size', () => {
    const domain = tinyModel();
    domain.opset_import!.push({ domain: 'com.microsoft', version: 1 });
    expect(thrown(() => importOnnxBytes(encodeModel(domain), 'm.onnx')).message).toBe('m.onnx: the model uses the operator set "com.microsoft", which Netloom does not know');
    const fn = tinyModel();
    fn.functions = [Uint8Array.of(0x0a, 0x01, 0x66)];
    expect(thrown(() => importOnnxBytes(encodeModel(fn), 'm.onnx')).message).toBe('m.onnx: the model defines its own functions, which Netloom does not import');
    const two = tinyModel();
    two.graph!.input!.push({ name: 'mask', type: two.graph!.input![0].type });
    expect(thrown(() => importOnnxBytes(encodeModel(two), 'm.onnx')).message).toBe('m.onnx: the model has 2 inputs; Netloom models take one');
    const outs = tinyModel();
    outs.graph!.output!.push({ name: 'fc.bias' });
    expect(thrown(() => importOnnxBytes(encodeModel(outs), 'm.onnx')).message).toBe('m.onnx: the model has 2 outputs; Netloom models have one (the logits)');
    const sym = tinyModel();
    sym.graph!.input![0].type!.tensor_type!.shape!.dim![1] = { dim_param: 'F' };
    expect(thrown(() => importOnnxBytes(encodeModel(sym), 'm.onnx')).message).toBe('m.onnx: the input input has the shape [N, F]; Netloom needs a batch dimension followed by 1 to 4 fixed sizes');
  });
});

describe('files', () => {
  it('importOnnx reads a file, and refuses a damaged one', async () => {
    const f = join(tmp, 'tiny.onnx');
    writeFileSync(f, encodeModel(tinyModel()));
    const r = await importOnnx(f);
    expect(r.project.graph.nodes.map((n) => [n.type, n.name])).toEqual([['Input', 'input'], ['Linear', 'fc'], ['CrossEntropyLoss', 'loss_fn']]);
    writeFileSync(join(tmp, 'bad.onnx'), Uint8Array.of(0x08, 0x08, 0x3a, 0x40));
    expect(await refusal(importOnnx(join(tmp, 'bad.onnx')))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringContaining('truncated') });
  });

  it('a missing file is an NL_IO error naming it, not an internal error (found by the API fuzzer)', async () => {
    const missing = join(tmp, 'nowhere', 'model.onnx');
    expect(await refusal(importOnnx(missing))).toMatchObject({ code: 'NL_IO', message: `${missing}: ONNX model not found`, hint: expect.stringContaining('.onnx') });
    expect(await refusal(importOnnx('relative-missing.onnx'))).toMatchObject({ code: 'NL_IO', message: expect.stringMatching(/^relative-missing\.onnx: ONNX model not found \(looked for \/.*relative-missing\.onnx\)$/) });
  });

  it('a file over the checkpoint size cap is refused before it is read', async () => {
    const f = join(tmp, 'huge.onnx');
    writeFileSync(f, encodeModel(tinyModel()));
    truncateSync(f, MAX_CHECKPOINT_BYTES + 1); // sparse: no disk space used
    expect(await refusal(importOnnx(f))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: `${f} is larger than 2 GiB, too large for a model file` });
    rmSync(f);
  });

  it('readCheckpointFile reads an ONNX model (READERS onnx): its state-dict initialisers and metadata', async () => {
    const m = tinyModel({ initializers: [floatTensor('onnx::Conv_7', [1], seeded(1, 5)), floatTensor('fc/scale', [1], seeded(1, 6))] });
    m.metadata_props!.push({ key: 'netloom.num_batches_tracked', value: '{"bn.num_batches_tracked":12}' });
    const f = join(tmp, 'weights.onnx');
    writeFileSync(f, encodeModel(m));
    const c = await readCheckpointFile(f);
    expect(c.format).toBe('onnx');
    expect(Object.keys(c.tensors).sort()).toEqual(['bn.num_batches_tracked', 'fc.bias', 'fc.weight']);
    expect(c.tensors['fc.weight']).toEqual({ shape: [3, 4], data: seeded(12, 1) });
    expect(c.tensors['bn.num_batches_tracked']).toEqual({ shape: [], data: Float32Array.of(12), dtype: 'I64' });
    expect({ ...c.metadata }).toEqual({ producer: 'test' });
    writeFileSync(join(tmp, 'cut.onnx'), encodeModel(m).subarray(0, 40));
    expect(await refusal(readCheckpointFile(join(tmp, 'cut.onnx')))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringContaining('not a valid ONNX model') });
  });
});
