/**
 * Live training charts (chart.js through react-chartjs-2): batch loss (raw + EMA) with the
 * per-epoch train and test loss, test accuracy per epoch, and the learning rate. Data comes from
 * useMetricSeries (at most ~5 updates a second); chart.js draws without animation and decimates.
 */
import { useMemo, useRef } from 'react';
import { Line } from 'react-chartjs-2';
import type { ChartData, Plugin } from 'chart.js';
import { OVERLAY_COLOURS, storedRuns } from '../state/runs';
import { useStore } from '../state/store';
import { cssVar, lineOptions } from './chartSetup';
import { useMetricSeries, type Point } from './useMetricSeries';

type LineData = ChartData<'line', Point[]>;

/**
 * Dashed vertical lines where hyper-parameters changed on resume (x on the step axis), read from
 * `marks` at every draw.
 */
function hyperLinesPlugin(marks: { current: { x: number; label: string }[] }, colour: string): Plugin<'line'> {
  return {
    id: 'hyperLines',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      const area = chart.chartArea;
      if (!x || !area || marks.current.length === 0) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 3]);
      ctx.font = '10px sans-serif';
      for (const m of marks.current) {
        const px = x.getPixelForValue(m.x);
        if (px < area.left || px > area.right) continue;
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        const text = m.label.replace(/ at step \d+$/, '');
        const w = ctx.measureText(text).width;
        ctx.fillText(text, px + 3 + w > area.right ? px - 3 - w : px + 3, area.top + 10);
      }
      ctx.restore();
    },
  };
}

function LossChart() {
  const theme = useStore((s) => s.theme);
  const overlayIds = useStore((s) => s.overlayRuns);
  const extra = useStore((s) => s.project.extra);
  const overlays = useMemo(() => {
    const all = storedRuns(extra);
    return overlayIds
      .map((id) => all.findIndex((r) => r.id === id))
      .filter((i) => i >= 0)
      .map((i) => ({
        label: all[i].label,
        data: all[i].loss.map(([x, y]) => ({ x, y })),
        borderColor: OVERLAY_COLOURS[i % OVERLAY_COLOURS.length],
        borderWidth: 1.5,
        order: 4,
      }));
  }, [overlayIds, extra]);
  const data = useMetricSeries<LineData>((m) => ({
    datasets: [
      { label: 'batch loss', data: m.batchLoss.snapshot(), borderColor: cssVar('--edge', '#9aa3b5'), borderWidth: 1, order: 3 },
      { label: 'batch loss (EMA)', data: m.batchLossEma.snapshot(), borderColor: cssVar('--accent', '#4f6bed'), borderWidth: 2, order: 2 },
      { label: 'train loss (epoch)', data: m.trainLoss.snapshot(), borderColor: cssVar('--warning', '#c98a0c'), pointRadius: 3, order: 1 },
      { label: 'test loss (epoch)', data: m.testLoss.snapshot(), borderColor: cssVar('--danger', '#dc3b3b'), pointRadius: 3, order: 0 },
    ],
  }));
  const changes = useMetricSeries((m) => m.changes);
  const marks = useRef(changes);
  marks.current = changes;
  // eslint-disable-next-line react-hooks/exhaustive-deps -- cssVar() reads the theme's colours from CSS: recompute when it changes
  const plugins = useMemo(() => [hyperLinesPlugin(marks, cssVar('--danger', '#dc3b3b'))], [theme]);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- cssVar() reads the theme's colours from CSS: recompute when it changes
  const options = useMemo(() => lineOptions({ xTitle: 'step', yTitle: 'loss', yMin: 0 }), [theme]);
  const shown = useMemo(() => ({ datasets: [...data.datasets, ...overlays] }), [data, overlays]);
  const points = data.datasets[0].data.length;
  return (
    <div className="loss-col">
      <div className="chart-box">
      <Line
        key={theme}
        data={shown}
        options={options}
        plugins={plugins}
        updateMode="none"
        data-testid="chart-loss"
        data-points={points}
        data-overlays={overlays.length}
        data-changes={changes.length}
        aria-label={`loss chart, ${points} batch points`}
      />
      </div>
      {changes.length > 0 && (
        <ul className="hyper-changes">
          {changes.map((c, i) => (
            <li key={i} data-testid="hyper-change">
              <span className="hyper-swatch" /> {c.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function AccuracyChart() {
  const theme = useStore((s) => s.theme);
  const data = useMetricSeries<LineData>((m) => ({
    datasets: [
      { label: 'test accuracy %', data: m.testAccuracy.snapshot(), borderColor: cssVar('--success', '#1f9d63'), pointRadius: 3 },
      { label: 'train accuracy %', data: m.trainAccuracy.snapshot(), borderColor: cssVar('--warning', '#c98a0c'), borderDash: [4, 3], pointRadius: 3 },
    ],
  }));
  // eslint-disable-next-line react-hooks/exhaustive-deps -- cssVar() reads the theme's colours from CSS: recompute when it changes
  const options = useMemo(() => lineOptions({ xTitle: 'epoch', yTitle: 'accuracy %', xMin: 0, yMin: 0, yMax: 100 }), [theme]);
  return (
    <div className="chart-box">
      <Line key={theme} data={data} options={options} updateMode="none" data-testid="chart-accuracy" data-points={data.datasets[0].data.length} />
    </div>
  );
}

function LearningRateChart() {
  const theme = useStore((s) => s.theme);
  const data = useMetricSeries<LineData>((m) => ({
    datasets: [{ label: 'learning rate', data: m.lr.snapshot(), borderColor: cssVar('--g-convolution', '#7a4fe0') }],
  }));
  // eslint-disable-next-line react-hooks/exhaustive-deps -- cssVar() reads the theme's colours from CSS: recompute when it changes
  const options = useMemo(() => lineOptions({ xTitle: 'step', yTitle: 'lr', yMin: 0 }), [theme]);
  return (
    <div className="chart-box">
      <Line key={theme} data={data} options={options} updateMode="none" data-testid="chart-lr" data-points={data.datasets[0].data.length} />
    </div>
  );
}

function ThroughputChart() {
  const theme = useStore((s) => s.theme);
  const data = useMetricSeries<LineData>((m) => ({
    datasets: [{ label: 'samples/s', data: m.throughput.snapshot(), borderColor: cssVar('--g-pooling', '#0c8599') }],
  }));
  // eslint-disable-next-line react-hooks/exhaustive-deps -- cssVar() reads the theme's colours from CSS: recompute when it changes
  const options = useMemo(() => lineOptions({ xTitle: 'step', yTitle: 'samples/s', yMin: 0 }), [theme]);
  return (
    <div className="chart-box">
      <Line key={theme} data={data} options={options} updateMode="none" data-testid="chart-throughput" data-points={data.datasets[0].data.length} />
    </div>
  );
}

export function TrainingCharts() {
  return (
    <div className="training-charts" data-testid="training-charts">
      <LossChart />
      <AccuracyChart />
      <LearningRateChart />
      <ThroughputChart />
    </div>
  );
}
