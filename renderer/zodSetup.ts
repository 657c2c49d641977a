/**
 * Imported first by main.tsx: zod decides at schema construction whether to JIT-compile
 * validators with `new Function`, which the page's CSP forbids (a console error on every
 * start). The plain validators are fast enough for API messages.
 */
import { config } from 'zod';

config({ jitless: true });
