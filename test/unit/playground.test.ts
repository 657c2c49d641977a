import { describe, expect, it } from 'vitest';
import { BUILTIN_DATASETS } from '../../engine/contract/datasets.js';
import { rgbaToGrey } from '../../renderer/state/training';

describe('rgbaToGrey (the inference playground)', () => {
  it('takes the luma of opaque pixels and treats transparent ones as black', () => {
    const rgba = [255, 255, 255, 255, 0, 0, 0, 255, 255, 0, 0, 255, 255, 255, 255, 0];
    expect(rgbaToGrey(rgba)).toEqual([255, 0, 76, 0]);
  });
  it('inverts a mostly light picture (dark ink on paper) when asked', () => {
    const rgba = [255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 255];
    expect(rgbaToGrey(rgba, { autoInvert: true })).toEqual([0, 0, 0, 255]);
    expect(rgbaToGrey(rgba)).toEqual([255, 255, 255, 0]);
  });
  it('knows ten class names for each dataset', () => {
    for (const { classes } of Object.values(BUILTIN_DATASETS)) expect(classes).toHaveLength(10);
  });
});
