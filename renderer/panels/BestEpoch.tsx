/** "★ best epoch N" for the progress line: the epoch whose weights Save checkpoint → best epoch writes. */
import { useBestEpoch } from '../hooks/useBestEpoch';

export function BestEpoch() {
  const best = useBestEpoch();
  if (best === null) return null;
  return (
    <span className="run-best" data-testid="train-best-epoch" data-epoch={best} title="the epoch with the lowest test loss so far: Save checkpoint can save its weights">
      ★ best epoch <strong>{best}</strong>
    </span>
  );
}
