/**
 * The one method table behind both transports. `netloom serve` (serve.ts, a WebSocket) and the
 * desktop app (electron/ipc.ts, Electron IPC) hand every request here: the method name and params
 * are validated with api.ts, the EngineService method of that name runs, and its result is checked
 * against the contract before it leaves. Nothing here throws: every failure is an ApiError.
 */
import { isNetloomError } from '../errors.js';
import { TOO_DEEP, checkJsonValue } from '../io/json-limits.js';
import { METHODS, checkRequest, type ApiError, type MethodName } from '../contract/api.js';
import type { EngineService } from './service.js';

export type DispatchReply = { result: unknown } | { error: ApiError };

/**
 * Runs one request against the service. `where` names the host in logged details and hints
 * ("the terminal running `netloom serve`", "the app's log").
 */
export async function dispatch(
  service: EngineService,
  method: unknown,
  params: unknown,
  log: (line: string) => void,
  where = 'the terminal running `netloom serve`',
): Promise<DispatchReply> {
  if (typeof method !== 'string')
    return { error: { code: 'NL_BAD_REQUEST', message: 'the request has no method name', hint: 'Send {"method": "<name>", "params": {...}}.' } };
  // Structured clone (Electron IPC) can carry any depth and even cycles; JSON.stringify then overflows or throws.
  const shape = checkJsonValue(params, 'params');
  if (shape)
    return { error: { code: 'NL_BAD_REQUEST', message: shape.kind === 'cycle' ? `the request refers to itself at ${shape.path}` : `the request ${TOO_DEEP} at ${shape.path}`, hint: 'Send plain project data: a project nests about 8 levels.' } };
  const checked = checkRequest(method, params);
  if (!checked.ok) return { error: checked.error };
  const m: MethodName = checked.method;
  let result: unknown;
  try {
    const fn = service[m] as (p: unknown) => Promise<unknown>;
    result = await fn.call(service, checked.params);
  } catch (e) {
    if (isNetloomError(e)) return { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
    log(`netloom: internal error in ${m}: ${(e as Error)?.stack ?? String(e)}`);
    return { error: { code: 'NL_INTERNAL', message: `internal error in ${m}`, hint: `The details are in ${where}; please report them.` } };
  }
  // Cheap, and it keeps the engine honest: the renderer validates the same way.
  const checkedResult = METHODS[m].result.safeParse(result);
  if (!checkedResult.success) {
    log(`netloom: ${m} returned a result that does not match api.ts: ${checkedResult.error.message}`);
    return { error: { code: 'NL_INTERNAL', message: `internal error in ${m}: the engine's answer does not match the API`, hint: `The details are in ${where}; please report them.` } };
  }
  return { result: checkedResult.data };
}
