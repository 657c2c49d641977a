/**
 * Wording of a checkpoint report (pure, no React): the report lists every node of the graph, weighted
 * or not, so "what fits" counts only the nodes whose state-dict keys the report found.
 */
import type { CheckpointReportView } from './store';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "3 layers with weights, 6 tensors": nodes whose report has keys, and those keys (a graph without weights says so). */
export function weightsCount(report: Pick<CheckpointReportView, 'nodes'>): string {
  const weighted = report.nodes.filter((n) => n.keys.length > 0);
  if (weighted.length === 0) return 'no layer has weights';
  const tensors = weighted.reduce((k, n) => k + n.keys.length, 0);
  return `${plural(weighted.length, 'layer', 'layers')} with weights, ${plural(tensors, 'tensor', 'tensors')}`;
}
