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
