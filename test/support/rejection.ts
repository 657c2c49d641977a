import { expect } from 'vitest';
import { NetloomError } from '../../engine/errors.js';

/** What `p` rejects with, as a plain {code, message}: vitest's toMatchObject does not compare an Error's message (not enumerable). */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}

/** What `f` throws, as a plain {code, message, hint} (a NetloomError's fields), so one toEqual checks all three. */
export function thrown(f: () => unknown): { code?: string; message: string; hint?: string } {
  try {
    f();
  } catch (e) {
    const x = e as { code?: string; message: string; hint?: string };
    return { code: x.code, message: x.message, hint: x.hint };
  }
  throw new Error('expected a throw');
}

/** What `p` rejects with, as a plain {code, message, hint} (a NetloomError's fields); fails when `p` succeeds. */
export async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    const x = e as { code?: string; message: string; hint?: string };
    return { code: x.code, message: x.message, hint: x.hint };
  }
  throw new Error('expected a refusal');
}

/** The NetloomError that `f` throws (anything else, or no throw, fails the test); its fields stay typed. */
export function thrownNetloomError(f: () => unknown): NetloomError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NetloomError);
    return e as NetloomError;
  }
  throw new Error('expected a NetloomError');
}

/** The NetloomError that `p` rejects with, or that `p()` throws or rejects with; anything else fails the test. */
export async function netloomRejection(p: Promise<unknown> | (() => unknown)): Promise<NetloomError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(NetloomError);
    return e as NetloomError;
  }
  throw new Error('expected a NetloomError');
}
