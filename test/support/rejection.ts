/** What `p` rejects with, as a plain {code, message}: vitest's toMatchObject does not compare an Error's message (not enumerable). */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}
