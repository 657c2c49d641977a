/**
 * The image playground's pixel work on 2D canvases (PlaygroundImage.tsx): the brush that draws on the pad,
 * and a picture turned into the model's uint8 CHW sample the way its dataset's samples look.
 */
import { resizeChw } from './imageResize';
import { placeImage, rgbaToChw, type PlaygroundInput } from './playground';
import { rgbaToGrey } from './training';

export type ImageInput = Extract<PlaygroundInput, { mode: 'pad' | 'image' }>;
export type PadPoint = { x: number; y: number };

/** A scratch canvas's 2D context, w x h. */
function canvasOf(w: number, h: number): CanvasRenderingContext2D {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  return c.getContext('2d', { willReadFrequently: true })!;
}

/** a soft round brush about 2.5 pixels wide on a 28-pixel pad (like MNIST's anti-aliased pen), in proportion on others */
export function brushStroke(g: CanvasRenderingContext2D, from: PadPoint, to: PadPoint, H: number, W: number): void {
  const k = Math.min(H, W) / 28;
  g.save();
  g.strokeStyle = '#fff';
  g.lineCap = 'round';
  g.lineJoin = 'round';
  g.lineWidth = Math.max(1, 2.2 * k);
  g.shadowColor = '#fff';
  g.shadowBlur = 1.5 * k;
  g.beginPath();
  g.moveTo(from.x, from.y);
  g.lineTo(to.x + (from.x === to.x && from.y === to.y ? 0.01 : 0), to.y);
  g.stroke();
  g.restore();
}

/** A PNG or JPEG as the model's sample (uint8 CHW, channels x H x W); rejects what the browser cannot decode. */
export async function imageSample(file: File, input: ImageInput, channels: 1 | 3): Promise<Uint8Array> {
  const { height: H, width: W } = input;
  const bmp = await createImageBitmap(file);
  let pixels: Uint8Array;
  if (input.mnistStyle) {
    // fitted inside the pad on black, light strokes on black as the dataset's samples are
    const work = canvasOf(W, H);
    work.fillStyle = '#000';
    work.fillRect(0, 0, W, H);
    const at = placeImage(bmp.width, bmp.height, W, H, true);
    work.imageSmoothingQuality = 'high';
    work.drawImage(bmp, at.x, at.y, at.w, at.h);
    pixels = Uint8Array.from(rgbaToGrey(work.getImageData(0, 0, W, H).data, { autoInvert: true }));
  } else {
    // as training reads an image folder: to RGB or PIL's grey, then Pillow's bilinear resize to h x w
    const full = canvasOf(bmp.width, bmp.height);
    full.drawImage(bmp, 0, 0);
    pixels = resizeChw(rgbaToChw(full.getImageData(0, 0, bmp.width, bmp.height).data, channels), channels, bmp.width, bmp.height, W, H);
  }
  bmp.close();
  return pixels;
}
