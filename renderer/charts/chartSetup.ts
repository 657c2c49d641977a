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
        ticks: { color: text, maxTicksLimit: 5, font: { size: 10 } },
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
