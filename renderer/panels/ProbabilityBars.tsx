/** Class probabilities as horizontal bars, the most probable one marked (the playground's answer). */
export function ProbabilityBars({ probabilities, predicted, name }: { probabilities: number[]; predicted: number; name: (i: number) => string }) {
  return (
    <div className="playground-bars" data-testid="playground-bars">
      {probabilities.map((p, i) => (
        <div key={i} className={`pbar${i === predicted ? ' top' : ''}`} data-testid="playground-bar" data-p={p} data-class={name(i)}>
          <span className="pbar-name" title={name(i)}>
            {name(i)}
          </span>
          <span className="pbar-track">
            <span className="pbar-fill" style={{ width: `${Math.max(0, Math.min(100, p * 100))}%` }} />
          </span>
          <span className="pbar-value">{(p * 100).toFixed(1)}%</span>
        </div>
      ))}
    </div>
  );
}
