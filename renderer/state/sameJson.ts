/** Deep equality of plain JSON values (project documents, parameter values): equal when they serialise alike. */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
