import type { ModelExportInput } from "../model-export.js";
export const readmeMd = (_i: ModelExportInput, _m: unknown) => "";
