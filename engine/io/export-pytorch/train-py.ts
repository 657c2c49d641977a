import type { ModelExportInput } from "../model-export.js";
export const trainPy = (_i: ModelExportInput, _m: unknown) => "";
