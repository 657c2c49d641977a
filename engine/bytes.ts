/** Sizes for messages: "512 MiB", "21.4 GiB" (the way native/core/memory.cpp writes them, so both sides read alike). */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.max(1, Math.round(bytes / 2 ** 20))} MiB`;
}
