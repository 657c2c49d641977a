/**
 * Pillow's Image.resize(..., BILINEAR) of planar uint8 channels, in the browser: the playground resizes a dropped
 * picture exactly as training resized the image folder's pictures (engine/data/images.ts resizeBilinear, of which
 * this is a copy: the renderer may not import engine code; test/unit/playground.test.ts checks that both give the
 * same bytes). A canvas's drawImage is no substitute: its smoothing differs between browsers and darkens the edges.
 *
 * Downscaling widens the triangle filter with the scale (an average, not 4 samples); horizontal pass, then vertical,
 * each rounding to uint8 with 22-bit fixed-point weights; upscaling is bilinear with pixel centres at i + 0.5.
 */

const PRECISION_BITS = 22; // Pillow: 32 - 8 - 2
const HALF = 1 << (PRECISION_BITS - 1);

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the triangle filter (support 1). */
function coeffs(inSize: number, outSize: number): { ksize: number; bounds: Int32Array; k: Int32Array } {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / support; // multiplied, not divided: the same floating-point steps as Pillow (and the engine)
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      w[x] = t < 1 ? 1 - t : 0;
      sum += w[x];
    }
    for (let x = 0; x < n; x++) k[xx * ksize + x] = Math.trunc(0.5 + (sum !== 0 ? w[x] / sum : w[x]) * (1 << PRECISION_BITS));
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = n;
  }
  return { ksize, bounds, k };
}

const clip8 = (ss: number) => {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/** Resizes `channels` planes (CHW) of inW x inH to outW x outH; returns a new array. */
export function resizeChw(src: Uint8Array, channels: number, inW: number, inH: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  if (outW !== inW) {
    const { ksize, bounds, k } = coeffs(inW, outW);
    const next = new Uint8Array(channels * inH * outW);
    for (let r = 0; r < channels * inH; r++)
      for (let xx = 0; xx < outW; xx++) {
        let ss = HALF;
        for (let x = 0; x < bounds[2 * xx + 1]; x++) ss += cur[r * inW + bounds[2 * xx] + x] * k[xx * ksize + x];
        next[r * outW + xx] = clip8(ss);
      }
    cur = next;
  }
  if (outH !== inH) {
    const { ksize, bounds, k } = coeffs(inH, outH);
    const next = new Uint8Array(channels * outH * outW);
    for (let c = 0; c < channels; c++)
      for (let yy = 0; yy < outH; yy++)
        for (let xx = 0; xx < outW; xx++) {
          let ss = HALF;
          for (let y = 0; y < bounds[2 * yy + 1]; y++) ss += cur[c * inH * outW + (bounds[2 * yy] + y) * outW + xx] * k[yy * ksize + y];
          next[c * outH * outW + yy * outW + xx] = clip8(ss);
        }
    cur = next;
  }
  return cur === src ? src.slice() : cur;
}
