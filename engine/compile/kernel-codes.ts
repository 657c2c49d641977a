/**
 * The codes of the kernels' `kind` and `reduction` attributes, by the engine's names. Each list
 * mirrors a native .def file row for row (the code is the row): ACTIVATION native/core/activation.def,
 * REDUCTION reduction.def, POINT_LOSS point-loss.def; test/unit/op-table.test.ts compares them.
 */
export const ACTIVATION = { LeakyReLU: 0, ELU: 1, GELU: 2, GELU_TANH: 3, SiLU: 4, Sigmoid: 5, Tanh: 6 } as const;
export const REDUCTION = { mean: 0, sum: 1 } as const;
export const POINT_LOSS = { MSELoss: 0, L1Loss: 1, SmoothL1Loss: 2, BCEWithLogitsLoss: 3 } as const;
