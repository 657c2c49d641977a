/**
 * One split (train or test) of an image dataset as the loaders return it: uint8 pixels and class
 * labels. Its own module so that the readers (registry.ts, cifar.ts, images.ts) and the dataset
 * front door (datasets.ts) can all name it without importing each other.
 */
export interface Split {
  /** count * (product of sampleShape) bytes, one sample after another (28x28 row-major; CIFAR: 3x32x32, CHW). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}
