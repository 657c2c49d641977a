/**
 * The playground for image models: a pad of the model's input size (h x w) to draw on with a soft brush (white
 * on black, like MNIST) when the input has one channel, or a drop area when it has three (RGB: drawing makes no
 * sense there). A dropped or chosen PNG/JPEG is resized to h x w: the built-in digit and clothing sets fit it
 * keeping its aspect and invert dark-on-light pictures (their samples are light on black); otherwise it is taken to
 * RGB or grey and stretched with Pillow's bilinear resize (state/imageResize.ts), byte for byte as training read
 * the image folder. The pixels go to api.predict as uint8 CHW.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { padView, rgbaToChw } from '../state/playground';
import { imageSample, type ImageInput } from '../state/playgroundCanvas';
import { sampleToRgba } from '../state/training';
import { useStore, type PlaygroundDrop } from '../state/store';
import { usePadBrush } from '../hooks/usePadBrush';
import { usePrediction, type Prediction } from '../hooks/usePrediction';
import { ProbabilityBars } from './ProbabilityBars';

export function PlaygroundImage({ input, enabled, className, dropped }: { input: ImageInput; enabled: boolean; className: (i: number) => string; dropped: PlaygroundDrop | null }) {
  const { height: H, width: W } = input;
  const channels = input.mode === 'image' ? 3 : 1;
  const runId = useStore((s) => s.run.runId);
  const canvas = useRef<HTMLCanvasElement>(null);
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

  const brush = usePadBrush({
    ctx2d,
    height: H,
    width: W,
    drawable: enabled && input.mode === 'pad',
    onInk: () => setInked(true),
    onDone: () => {
      // the pad's pixels as the model's sample
      const g = ctx2d();
      if (g) predict({ pixels: Array.from(rgbaToChw(g.getImageData(0, 0, W, H).data, channels)) });
    },
  });

  const loadFile = async (file: File | undefined) => {
    if (!file || !enabled) return;
    if (!/^image\/(png|jpeg)$/.test(file.type)) {
      setError(`${file.name} is not a PNG or JPEG image.`);
      return;
    }
    const g = ctx2d();
    if (!g) return;
    try {
      const pixels = await imageSample(file, input, channels);
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
          onPointerDown={brush.onDown}
          onPointerMove={brush.onMove}
          onPointerUp={brush.onUp}
          onPointerCancel={brush.onUp}
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
      <PlaygroundResult prediction={prediction} error={error} enabled={enabled} className={className} />
    </div>
  );
}

/** The answer beside the pad: the class probabilities, or why there are none. */
function PlaygroundResult({ prediction, error, enabled, className }: { prediction: Prediction | null; error: string | null; enabled: boolean; className: (i: number) => string }) {
  return (
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
  );
}
