/**
 * The app icon's one source: this script draws it and writes every file the installers use.
 *
 *   npm run icons     (compiles this file, then writes assets/icons/*.png, assets/icon.ico, assets/icon.icns)
 *
 * Why a drawing script rather than an SVG: electron-builder 26 converts SVG/PNG to .ico/.icns with a
 * toolset it downloads from GitHub at packaging time (electron-builder-binaries, icons@1.2.3); writing
 * them here keeps packaging offline, and lets the small sizes be drawn for their pixel grid (thicker
 * threads, fewer nodes at 16 px) instead of being shrunk from 1024 px.
 *
 * The motif: a small network on a loom. Two input nodes, three hidden and two outputs, every layer
 * fully connected, so the threads cross like a weave; white on an indigo rounded square (the
 * renderer's accent colour, #4f6bed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import pngjs from 'pngjs';

export interface Raster {
  size: number;
  /** RGBA, row-major, not premultiplied */
  data: Uint8Array;
}

type Vec = readonly [number, number];

/** Sizes written as PNG (Linux hicolor set; the largest is the master for anything else). */
export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
/** Sizes in the Windows .ico (PNG-compressed entries: Windows Vista and later). */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;
/** macOS .icns entries, each a PNG: [OSType, pixel size]. */
export const ICNS_ENTRIES: readonly (readonly [string, number])[] = [
  ['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024],
  ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512],
];

const TOP: Vec3 = [0x6a, 0x86, 0xff];
const BOTTOM: Vec3 = [0x2f, 0x40, 0xc4];
type Vec3 = readonly [number, number, number];

/** The geometry in unit coordinates (0..1 across the icon), chosen per size. */
function design(size: number) {
  const tiny = size <= 32;
  const detailed = size > 128;
  // macOS wants the body inside an 824/1024 grid; at 16-32 px every pixel counts, so the body fills the tile
  const inset = tiny ? 0 : 100 / 1024;
  const body = { x0: inset, y0: inset, x1: 1 - inset, y1: 1 - inset, r: 0.2 * (1 - 2 * inset) };
  const px = 1 / size;
  const layer = (x: number, ys: number[]): Vec[] => ys.map((y) => [x, y] as Vec);
  // 16-32 px: 2-1-2 nodes, so each dot keeps a clear pixel around it; above: 2-3-2
  const layers: Vec[][] = tiny
    ? [layer(0.24, [0.3, 0.7]), layer(0.5, [0.5]), layer(0.76, [0.3, 0.7])]
    : [layer(0.26, [0.38, 0.62]), layer(0.5, [0.27, 0.5, 0.73]), layer(0.74, [0.38, 0.62])];
  return {
    body,
    layers,
    // never under about one pixel, so the threads stay visible when small
    thread: tiny ? 1.15 * px : Math.max(1.3 * px, detailed ? 0.02 : 0.026),
    node: tiny ? 1.9 * px : detailed ? 0.05 : 0.058,
    // a ring of background colour parting nodes from threads: only where it can be a few pixels wide
    ring: detailed ? 0.014 : 0,
  };
}

/** Signed distance to a rounded rectangle (negative inside). */
function roundedRect(p: Vec, b: { x0: number; y0: number; x1: number; y1: number; r: number }): number {
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  const hx = (b.x1 - b.x0) / 2 - b.r;
  const hy = (b.y1 - b.y0) / 2 - b.r;
  const qx = Math.abs(p[0] - cx) - hx;
  const qy = Math.abs(p[1] - cy) - hy;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - b.r;
}

/** Distance to the segment a-b. */
function segment(p: Vec, a: Vec, b: Vec): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

/** Coverage of a pixel by a shape at signed distance d (unit coordinates): a one-pixel linear ramp. */
const cover = (d: number, size: number) => Math.max(0, Math.min(1, 0.5 - d * size));

/** Draws the icon at `size` x `size` pixels. */
export function renderIcon(size: number): Raster {
  const g = design(size);
  const threads: [Vec, Vec][] = [];
  for (let l = 0; l + 1 < g.layers.length; l++) for (const a of g.layers[l]) for (const b of g.layers[l + 1]) threads.push([a, b]);
  const nodes = g.layers.flat();
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p: Vec = [(x + 0.5) / size, (y + 0.5) / size];
      const alpha = cover(roundedRect(p, g.body), size);
      if (alpha === 0) continue;
      // vertical gradient across the body
      const t = Math.max(0, Math.min(1, (p[1] - g.body.y0) / (g.body.y1 - g.body.y0)));
      let rgb: [number, number, number] = [0, 1, 2].map((i) => TOP[i] + (BOTTOM[i] - TOP[i]) * t) as [number, number, number];
      const over = (c: Vec3, a: number) => {
        rgb = [0, 1, 2].map((i) => rgb[i] + (c[i] - rgb[i]) * a) as [number, number, number];
      };
      let dThread = Infinity;
      for (const [a, b] of threads) dThread = Math.min(dThread, segment(p, a, b));
      over([255, 255, 255], 0.78 * cover(dThread - g.thread / 2, size));
      let dNode = Infinity;
      for (const c of nodes) dNode = Math.min(dNode, Math.hypot(p[0] - c[0], p[1] - c[1]));
      // a ring of the background colour around each node parts it from the threads (large sizes)
      if (g.ring > 0) over(BOTTOM, cover(dNode - g.node - g.ring, size));
      over([255, 255, 255], cover(dNode - g.node, size));
      const o = (y * size + x) * 4;
      data[o] = Math.round(rgb[0]);
      data[o + 1] = Math.round(rgb[1]);
      data[o + 2] = Math.round(rgb[2]);
      data[o + 3] = Math.round(alpha * 255);
    }
  }
  return { size, data };
}

export function encodePng(r: Raster): Buffer {
  const png = new pngjs.PNG({ width: r.size, height: r.size });
  png.data = Buffer.from(r.data);
  return pngjs.PNG.sync.write(png, { colorType: 6 });
}

/** A Windows .ico whose entries are PNGs (ICONDIR, one ICONDIRENTRY each, then the images). */
export function encodeIco(images: { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach((img, i) => {
    const e = 6 + 16 * i;
    header.writeUInt8(img.size >= 256 ? 0 : img.size, e); // 0 means 256
    header.writeUInt8(img.size >= 256 ? 0 : img.size, e + 1);
    header.writeUInt16LE(1, e + 4); // colour planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(img.png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += img.png.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.png)]);
}

/** A macOS .icns: 'icns' + total length, then (OSType, length incl. 8-byte header, PNG data) entries. */
export function encodeIcns(entries: { type: string; png: Buffer }[]): Buffer {
  const parts = entries.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + parts.reduce((a, p) => a + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

/** Every icon file, by its path relative to the repository root. */
export function iconFiles(): Map<string, Buffer> {
  const png = new Map<number, Buffer>();
  for (const s of new Set([...PNG_SIZES, ...ICO_SIZES, ...ICNS_ENTRIES.map(([, s]) => s)])) png.set(s, encodePng(renderIcon(s)));
  const files = new Map<string, Buffer>();
  for (const s of PNG_SIZES) files.set(path.join('assets', 'icons', `${s}x${s}.png`), png.get(s)!);
  files.set(path.join('assets', 'icon.ico'), encodeIco(ICO_SIZES.map((size) => ({ size, png: png.get(size)! }))));
  files.set(path.join('assets', 'icon.icns'), encodeIcns(ICNS_ENTRIES.map(([type, size]) => ({ type, png: png.get(size)! }))));
  return files;
}

function main(): void {
  const root = process.cwd(); // npm scripts run in the repository root
  for (const [rel, bytes] of iconFiles()) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), bytes);
    console.log(`${rel} (${bytes.length} bytes)`);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]).endsWith(path.join('assets', 'make-icons.js'))) main();
