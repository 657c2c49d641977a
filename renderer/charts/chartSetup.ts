/**
 * chart.js, tree-shaken: only the parts the training charts use are registered (line charts on
 * linear axes, the lttb decimation plugin, tooltips and legends).
 */
import { Chart, Decimation, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartOptions } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Decimation, Tooltip, Legend);

/** Colours from the app's CSS variables, read when a chart mounts (theme switches remount). */
export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/**
 * A y-axis tick's label, short enough for a narrow chart: three significant digits, and an exponent for tiny
 * values (a learning rate annealed to 4e-8 would otherwise be labelled "4.00000000E-8" and cut at the chart's edge).
 */
export function tickLabel(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  if (Math.abs(v) < 1e-3) return v.toExponential(1).replace(/\.0e/, 'e');
  const short = Number(v.toPrecision(3));
  // thousands separated (samples/s), small values as they are (toLocaleString would round 0.0015 to 0.002)
  return Math.abs(short) >= 1000 ? short.toLocaleString('en-US') : String(short);
}

/** Options shared by every training chart: no animation, pre-parsed {x, y} points, lttb decimation. */
export function lineOptions(opts: { xTitle: string; yTitle: string; xMin?: number; yMin?: number; yMax?: number }): ChartOptions<'line'> {
  const text = cssVar('--text-2', '#535b6d');
  const grid = cssVar('--border', '#dfe2e8');
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    spanGaps: true,
    interaction: { mode: 'nearest', intersect: false, axis: 'x' },
    elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 1.5, tension: 0 } },
    scales: {
      x: { type: 'linear', suggestedMin: opts.xMin, title: { display: true, text: opts.xTitle, color: text, font: { size: 11 } }, ticks: { color: text, maxTicksLimit: 6, font: { size: 10 } }, grid: { color: grid } },
      y: {
        type: 'linear',
        min: opts.yMin,
        max: opts.yMax,
        title: { display: true, text: opts.yTitle, color: text, font: { size: 11 } },
        ticks: { color: text, maxTicksLimit: 5, font: { size: 10 }, callback: (v) => tickLabel(Number(v)) },
        grid: { color: grid },
      },
    },
    plugins: {
      decimation: { enabled: true, algorithm: 'lttb', samples: 600, threshold: 800 },
      legend: { labels: { color: text, boxWidth: 12, font: { size: 11 } } },
      tooltip: { enabled: true },
    },
  };
}
