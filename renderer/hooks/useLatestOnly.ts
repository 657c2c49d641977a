/**
 * Runs an async job for the latest argument only, one at a time: calls made while one runs replace each other,
 * and the last of them runs when it ends. The playground predicts this way as the user draws or types, so the
 * engine never queues stale requests and the answer shown is always for the latest input.
 */
import { useCallback, useRef } from 'react';

export function useLatestOnly<A>(job: (arg: A) => Promise<void>): (arg: A) => void {
  const jobRef = useRef(job);
  jobRef.current = job;
  const state = useRef<{ busy: boolean; next: { arg: A } | null }>({ busy: false, next: null });
  return useCallback((arg: A) => {
    const s = state.current;
    s.next = { arg };
    if (s.busy) return;
    s.busy = true;
    void (async () => {
      try {
        while (s.next) {
          const { arg: latest } = s.next;
          s.next = null;
          // the job shows its own errors; a failure must not strand the calls that came meanwhile
          await jobRef.current(latest).catch(() => {});
        }
      } finally {
        s.busy = false;
      }
    })();
  }, []);
}
