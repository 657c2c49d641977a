/**
 * The playground for image models: a pad of the model's input size (h x w) to draw on with a soft brush (white
 * on black, like MNIST) when the input has one channel, or a drop area when it has three (RGB: drawing makes no
 * sense there). A dropped or chosen PNG/JPEG is resized to h x w: the built-in digit and clothing sets fit it
 * keeping its aspect and invert dark-on-light pictures (their samples are light on black); otherwise it is taken to
 * RGB or grey and stretched with Pillow's bilinear resize (state/imageResize.ts), byte for byte as training read
 * the image folder. The pixels go to api.predict as uint8 CHW.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { resizeChw } from '../state/imageResize';
import { padView, placeImage, rgbaToChw, type PlaygroundInput } from '../state/playground';
import { rgbaToGrey, sampleToRgba } from '../state/training';
import { useStore, type PlaygroundDrop } from '../state/store';
import { usePrediction } from '../hooks/usePrediction';
import { ProbabilityBars } from './ProbabilityBars';

/** A scratch canvas's 2D context, w x h. */
function canvasOf(w: number, h: number): CanvasRenderingContext2D {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  return c.getContext('2d', { willReadFrequently: true })!;
}
type ImageInput = Extract<PlaygroundInput, { mode: 'pad' | 'image' }>;

export function PlaygroundImage({ input, enabled, className, dropped }: { input: ImageInput; enabled: boolean; className: (i: number) => string; dropped: PlaygroundDrop | null }) {
  const { height: H, width: W } = input;
  const channels = input.mode === 'image' ? 3 : 1;
  const runId = useStore((s) => s.run.runId);
  const canvas = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const { prediction, setPrediction, error, setError, predict } = usePrediction();
  const [inked, setInked] = useState(false);
  const [dragOver, setDragOver] = useState(false);
  const view = padView(H, W);

  const ctx2d = () => canvas.current?.getContext('2d', { willReadFrequently: true }) ?? null;
  const clear = useCallback(() => {
    const g = ctx2d();
    if (!g) return;
    g.fillStyle = '#000';
    g.fillRect(0, 0, W, H);
    setInked(false);
    setPrediction(null);
  }, [H, W, setPrediction]);
  useEffect(clear, [clear]);
  // a new run: the old answer is stale
  useEffect(() => {
    setPrediction(null);
    setError(null);
  }, [runId, setPrediction, setError]);

  /** the pad's pixels as the model's sample */
  const sample = () => {
    const g = ctx2d();
    return g ? Array.from(rgbaToChw(g.getImageData(0, 0, W, H).data, channels)) : null;
  };

  const toPad = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * W, y: ((e.clientY - r.top) / r.height) * H };
  };
  /** a soft round brush about 2.5 pixels wide on a 28-pixel pad (like MNIST's anti-aliased pen), in proportion on others */
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }) => {
    const g = ctx2d();
    if (!g) return;
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
  };
  const drawable = enabled && input.mode === 'pad';
  const onDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    if (!drawable || e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = toPad(e);
    last.current = p;
    stroke(p, p);
    setInked(true);
  };
  const onMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    if (!last.current) return;
    const p = toPad(e);
    stroke(last.current, p);
    last.current = p;
  };
  const onUp = () => {
    if (!last.current) return;
    last.current = null;
    const s = sample();
    if (s) predict({ pixels: s });
  };

  const loadFile = async (file: File | undefined) => {
    if (!file || !enabled) return;
    if (!/^image\/(png|jpeg)$/.test(file.type)) {
      setError(`${file.name} is not a PNG or JPEG image.`);
      return;
    }
    const g = ctx2d();
    if (!g) return;
    try {
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
      const { rgba } = sampleToRgba(pixels, [channels, H, W]);
      g.putImageData(new ImageData(rgba, W, H), 0, 0);
      setInked(true);
      predict({ pixels: Array.from(pixels) });
    } catch (e) {
      setError(`Cannot read ${file.name}: ${(e as Error).message}`);
    }
  };

  // an image dropped elsewhere on the window (useGlobalDrop): taken once, shown here
  const droppedId = dropped?.id;
  useEffect(() => {
    if (!dropped || !enabled) return;
    useStore.getState().setPlaygroundDrop(null);
    canvas.current?.scrollIntoView({ block: 'nearest' });
    void loadFile(dropped.file);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [droppedId, enabled]);

  return (
    <div className="playground-body">
      <div className="playground-pad">
        <canvas
          ref={canvas}
          width={W}
          height={H}
          style={{ width: view.width, height: view.height }}
          className={`pad${dragOver ? ' drag-over' : ''}${input.mode === 'image' ? ' drop-only' : ''}`}
          data-testid={input.mode === 'pad' ? 'playground-pad' : 'playground-image'}
          data-shape={`${channels}x${H}x${W}`}
          title={input.mode === 'pad' ? undefined : `Drop a PNG or JPEG here: it is resized to ${H}×${W}, RGB`}
          onPointerDown={onDown}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={onUp}
          onDragOver={(e) => {
            if (!enabled) return;
            e.preventDefault();
            setDragOver(true);
          }}
          onDragLeave={() => setDragOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragOver(false);
            void loadFile(e.dataTransfer.files[0]);
          }}
        />
        <div className="playground-buttons">
          <button data-testid="playground-clear" onClick={clear} disabled={!inked}>
            Clear
          </button>
          <label className={`button-like${enabled ? '' : ' disabled'}`}>
            Image…
            <input
              type="file"
              accept="image/png,image/jpeg"
              data-testid="playground-file"
              disabled={!enabled}
              hidden
              onChange={(e) => {
                void loadFile(e.target.files?.[0]);
                e.target.value = '';
              }}
            />
          </label>
        </div>
      </div>
      <div className="playground-result">
        {error && (
          <div className="dialog-error" data-testid="playground-error">
            {error}
          </div>
        )}
        {prediction && prediction.probabilities.length > 0 && <ProbabilityBars probabilities={prediction.probabilities} predicted={prediction.predicted} name={className} />}
        {prediction && prediction.probabilities.length === 0 && (
          <div className="muted small" data-testid="playground-no-classes">
            This model scores no classes (its loss compares outputs with targets), so there are no probabilities to show.
          </div>
        )}
        {!prediction && !error && <div className="muted small">{enabled ? 'The class probabilities show here.' : ''}</div>}
      </div>
    </div>
  );
}
