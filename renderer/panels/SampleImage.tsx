/** One dataset sample (base64 uint8, CHW) drawn 1:1 on a canvas; CSS scales it up. */
import { useEffect, useRef } from 'react';
import { sampleToRgba } from '../state/training';

export function SampleImage({ pixels, shape, title, testId }: { pixels: string; shape: number[]; title?: string; testId?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const bytes = Uint8Array.from(atob(pixels), (ch) => ch.charCodeAt(0));
    const { width, height, rgba } = sampleToRgba(bytes, shape);
    const canvas = ref.current;
    if (!canvas || !width || !height) return;
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')?.putImageData(new ImageData(rgba, width, height), 0, 0);
  }, [pixels, shape]);
  return <canvas ref={ref} className="sample-image" data-testid={testId} title={title} aria-label={title} />;
}
