/** "Not connected to the Netloom engine": shown while the engine is unreachable, with a retry. */
import { useEffect, useState } from 'react';
import { useStore } from '../state/store';

export function ConnectionBanner({ onRetry }: { onRetry: () => void }) {
  const conn = useStore((s) => s.connection);
  const [now, setNow] = useState(Date.now());
  const [grace, setGrace] = useState(true);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 500);
    // the first connection gets a moment before the banner appears
    const g = setTimeout(() => setGrace(false), 1200);
    return () => {
      clearInterval(t);
      clearTimeout(g);
    };
  }, []);
  if (conn.status === 'open' || (grace && !conn.reason)) return null;
  const secs = conn.retryAt ? Math.max(0, Math.ceil((conn.retryAt - now) / 1000)) : null;
  return (
    <div className="banner" data-testid="connection-banner" role="alert">
      <strong>Not connected to the Netloom engine</strong>
      <span>
        {conn.reason ? `— ${conn.reason}. ` : ''}
        {conn.status === 'connecting' ? 'Connecting…' : secs !== null ? `Retrying in ${secs} s.` : ''} Your drawing stays here; it is autosaved once the engine is back.
      </span>
      <button className="link" onClick={onRetry} data-testid="btn-reconnect">
        Retry now
      </button>
    </div>
  );
}
