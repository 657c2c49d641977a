/**
 * `node dist/engine/data/builtin-build.js` (npm run build:data): writes the built-in MNIST and FashionMNIST
 * copies ahead of time so the first training run does not pay for it. Idempotent; see builtin.ts.
 */
import { isNetloomError } from '../errors.js';
import { buildBuiltin, TORCHVISION_FOLDERS } from './builtin.js';
import { BUNDLED_DATASET_NAMES } from '../contract/datasets.js';

async function main(): Promise<void> {
  for (const name of BUNDLED_DATASET_NAMES) {
    const started = Date.now();
    const { built, folder } = await buildBuiltin(name);
    const what = built ? `built in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'already present';
    console.log(`${TORCHVISION_FOLDERS[name]}: ${what}, ${folder}`);
  }
}

main().catch((e: unknown) => {
  console.error(isNetloomError(e) ? e.describe() : e);
  process.exitCode = 1;
});
