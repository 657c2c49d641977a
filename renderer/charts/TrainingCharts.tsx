/**
 * Live training charts (chart.js through react-chartjs-2): batch loss (raw + EMA) with the
 * per-epoch train and test loss, test accuracy per epoch, and the learning rate. Data comes from
 * useMetricSeries (at most ~5 updates a second); chart.js draws without animation and decimates.
 */
import { useMemo } from 'react';
import { Line } from 'react-chartjs-2';
import type { ChartData } from 'chart.js';
import { useStore } from '../state/store';
import { cssVar, lineOptions } from './chartSetup';
import { useMetricSeries, type Point } from './useMetricSeries';

type LineData = ChartData<'line', Point[]>;

function LossChart() {
  const theme = useStore((s) => s.theme);
  const data = useMetricSeries<LineData>((m) => ({
    datasets: [
      { label: 'batch loss', data: m.batchLoss.snapshot(), borderColor: cssVar('--edge', '#9aa3b5'), borderWidth: 1, order: 3 },
      { label: 'batch loss (EMA)', data: m.batchLossEma.snapshot(), borderColor: cssVar('--accent', '#4f6bed'), borderWidth: 2, order: 2 },
      { label: 'train loss (epoch)', data: m.trainLoss.snapshot(), borderColor: cssVar('--warning', '#c98a0c'), pointRadius: 3, order: 1 },
      { label: 'test loss (epoch)', data: m.testLoss.snapshot(), borderColor: cssVar('--danger', '#dc3b3b'), pointRadius: 3, order: 0 },
    ],
  }));
  const options = useMemo(() => lineOptions({ xTitle: 'step', yTitle: 'loss', yMin: 0 }), [theme]);
  const points = data.datasets[0].data.length;
  return (
    <div className="chart-box">
      <Line key={theme} data={data} options={options} updateMode="none" data-testid="chart-loss" data-points={points} aria-label={`loss chart, ${points} batch points`} />
    </div>
  );
}

function AccuracyChart() {
  const theme = useStore((s) => s.theme);
  const data = useMetricSeries<LineData>((m) => ({
    datasets: [{ label: 'test accuracy %', data: m.testAccuracy.snapshot(), borderColor: cssVar('--success', '#1f9d63'), pointRadius: 3 }],
  }));
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
  const options = useMemo(() => lineOptions({ xTitle: 'step', yTitle: 'lr', yMin: 0 }), [theme]);
  return (
    <div className="chart-box">
      <Line key={theme} data={data} options={options} updateMode="none" data-testid="chart-lr" data-points={data.datasets[0].data.length} />
    </div>
  );
}

export function TrainingCharts() {
  return (
    <div className="training-charts" data-testid="training-charts">
      <LossChart />
      <AccuracyChart />
      <LearningRateChart />
    </div>
  );
}
