/**
 * Inference playground (in the Training panel): a 28x28 pad to draw on with a soft brush (white on
 * black, like MNIST) or to drop a PNG/JPEG on (greyed and resized to 28x28), and the current
 * run's class probabilities for it (api.predict) as horizontal bars. Predictions run when a
 * stroke ends, at most one in flight (the latest drawing wins). The engine answers only when the
 * run is not training.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useStore } from '../state/store';
import { DATASET_CLASSES, effectiveSettings, rgbaToGrey } from '../state/training';

const SIZE = 28;
/** the pad's size on screen */
const VIEW = 196;

type Prediction = { probabilities: number[]; predicted: number };

export function Playground() {
  const runId = useStore((s) => s.run.runId);
  const state = useStore((s) => s.run.state);
  const evaluation = useStore((s) => s.run.evaluation);
  const dataset = useStore((s) => effectiveSettings(s.project.training, s.trainSettings).dataset);
  const canvas = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const inflight = useRef(false);
  const again = useRef(false);
  const [prediction, setPrediction] = useState<Prediction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inked, setInked] = useState(false);
  const [dragOver, setDragOver] = useState(false);
  const enabled = runId !== null && (state === 'paused' || state === 'finished' || state === 'stopped');

  const ctx2d = () => canvas.current?.getContext('2d', { willReadFrequently: true }) ?? null;
  const clear = useCallback(() => {
    const g = ctx2d();
    if (!g) return;
    g.fillStyle = '#000';
    g.fillRect(0, 0, SIZE, SIZE);
    setInked(false);
    setPrediction(null);
  }, []);
  useEffect(clear, [clear]);
  // a new run: the old answer is stale
  useEffect(() => {
    setPrediction(null);
    setError(null);
  }, [runId]);

  const predict = useCallback(async () => {
    const api = useStore.getState().api;
    const id = useStore.getState().run.runId;
    const g = ctx2d();
    if (!api || !id || !g) return;
    if (inflight.current) {
      again.current = true;
      return;
    }
    inflight.current = true;
    try {
      do {
        again.current = false;
        const pixels = rgbaToGrey(g.getImageData(0, 0, SIZE, SIZE).data);
        try {
          setPrediction(await api.predict({ runId: id, pixels }));
          setError(null);
        } catch (e) {
          const err = e as { message?: string; hint?: string };
          setError(`${err.message ?? String(e)}${err.hint ? ` ${err.hint}` : ''}`);
          setPrediction(null);
        }
      } while (again.current);
    } finally {
      inflight.current = false;
    }
  }, []);

  const toPad = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * SIZE, y: ((e.clientY - r.top) / r.height) * SIZE };
  };
  /** a soft round brush about 2.5 pixels wide, like MNIST's anti-aliased pen */
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }) => {
    const g = ctx2d();
    if (!g) return;
    g.save();
    g.strokeStyle = '#fff';
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.lineWidth = 2.2;
    g.shadowColor = '#fff';
    g.shadowBlur = 1.5;
    g.beginPath();
    g.moveTo(from.x, from.y);
    g.lineTo(to.x + (from.x === to.x && from.y === to.y ? 0.01 : 0), to.y);
    g.stroke();
    g.restore();
  };
  const onDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    if (!enabled || e.button !== 0) return;
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
    void predict();
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
      // fit the picture into 28x28 (keeping its aspect), on black
      const work = document.createElement('canvas');
      work.width = SIZE;
      work.height = SIZE;
      const w = work.getContext('2d', { willReadFrequently: true })!;
      w.fillStyle = '#000';
      w.fillRect(0, 0, SIZE, SIZE);
      const k = Math.min(SIZE / bmp.width, SIZE / bmp.height);
      const dw = bmp.width * k;
      const dh = bmp.height * k;
      w.imageSmoothingQuality = 'high';
      w.drawImage(bmp, (SIZE - dw) / 2, (SIZE - dh) / 2, dw, dh);
      bmp.close();
      const grey = rgbaToGrey(w.getImageData(0, 0, SIZE, SIZE).data, { autoInvert: true });
      const img = g.createImageData(SIZE, SIZE);
      grey.forEach((v, i) => {
        img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = v;
        img.data[i * 4 + 3] = 255;
      });
      g.putImageData(img, 0, 0);
      setInked(true);
      void predict();
    } catch (e) {
      setError(`Cannot read ${file.name}: ${(e as Error).message}`);
    }
  };

  const k = prediction?.probabilities.length ?? 0;
  const names = evaluation && evaluation.classNames.length >= k ? evaluation.classNames : (DATASET_CLASSES[dataset] ?? []);
  const name = (i: number) => names[i] ?? String(i);
  return (
    <div className={`playground${enabled ? '' : ' disabled'}`} data-testid="playground">
      <div className="playground-title">
        Inference playground
        <span className="muted small">
          {enabled ? ' · draw a digit or drop a PNG/JPEG on the pad' : runId ? ' · pause or stop the run to try its weights' : ' · train a model first'}
        </span>
      </div>
      <div className="playground-body">
        <div className="playground-pad">
          <canvas
            ref={canvas}
            width={SIZE}
            height={SIZE}
            style={{ width: VIEW, height: VIEW }}
            className={`pad${dragOver ? ' drag-over' : ''}`}
            data-testid="playground-pad"
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
          {prediction && (
            <div className="playground-bars" data-testid="playground-bars">
              {prediction.probabilities.map((p, i) => (
                <div key={i} className={`pbar${i === prediction.predicted ? ' top' : ''}`} data-testid="playground-bar" data-p={p}>
                  <span className="pbar-name" title={name(i)}>
                    {name(i)}
                  </span>
                  <span className="pbar-track">
                    <span className="pbar-fill" style={{ width: `${Math.max(0, Math.min(100, p * 100))}%` }} />
                  </span>
                  <span className="pbar-value">{(p * 100).toFixed(1)}%</span>
                </div>
              ))}
            </div>
          )}
          {!prediction && !error && <div className="muted small">{enabled ? 'The class probabilities show here.' : ''}</div>}
        </div>
      </div>
    </div>
  );
}
