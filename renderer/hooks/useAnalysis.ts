/**
 * Validation as you type: re-runs api.analyze({graph, batchSize}) ~100 ms after the graph's
 * content or the batch size last changed (not on drags or selection), and after a project is loaded
 * (which clears the analysis, even when the graph is the same). Answers to older requests are dropped,
 * so a slow reply never overwrites a newer one.
 */
import { useEffect } from 'react';
import { EngineCallError } from '../../engine/contract/api';
import { toGraphDto } from '../state/graph';
import { graphKey, useStore, type State } from '../state/store';

const DEBOUNCE_MS = 100;

export function useAnalysis() {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let seq = 0;
    let lastKey = '';
    let lastData: unknown[] = [];
    let lastEdges: unknown = null;
    let lastGroups: unknown = null;
    let lastBatch = 0;
    let lastCatalog: unknown = null;
    let lastConn = '';

    const schedule = (s: State) => {
      const ready = s.api && s.connection.status === 'open' && s.catalog.length > 0;
      // cheap check first: the node data objects, the edge list and the batch size
      const data = s.nodes.map((n) => n.data);
      const same =
        data.length === lastData.length && data.every((d, i) => d === lastData[i]) && s.edges === lastEdges && s.groups === lastGroups && s.batchSize === lastBatch && s.catalog === lastCatalog && s.connection.status === lastConn;
      if (same) return;
      lastData = data;
      lastEdges = s.edges;
      lastGroups = s.groups;
      lastBatch = s.batchSize;
      lastCatalog = s.catalog;
      lastConn = s.connection.status;
      if (!ready) return;
      const graph = toGraphDto(s.nodes, s.edges, s.groups);
      // graphKey leaves out what does not change the module (positions, a group's collapsed state)
      const key = JSON.stringify([graphKey(s), s.batchSize]);
      // the same graph again (a project reopened) is analysed again when loading it cleared the analysis
      if (key === lastKey && s.analysis !== null) return;
      lastKey = key;
      clearTimeout(timer);
      // counted now, not when the request goes out: an answer for the graph before this change is dropped too
      const mine = ++seq;
      timer = setTimeout(() => {
        const batchSize = s.batchSize;
        s.api!.analyze({ graph, batchSize }).then(
          (a) => {
            if (mine === seq) useStore.getState().setAnalysis(a);
          },
          (e) => {
            if (mine !== seq) return;
            lastKey = ''; // try again on the next change
            const msg = e instanceof EngineCallError ? e.message : String(e);
            useStore.setState({ analysisError: msg });
            if (!(e instanceof EngineCallError && e.code === 'NL_NOT_CONNECTED')) console.warn('analyze failed', e);
          },
        );
      }, DEBOUNCE_MS);
    };

    schedule(useStore.getState());
    const unsub = useStore.subscribe(schedule);
    return () => {
      unsub();
      clearTimeout(timer);
    };
  }, []);
}
