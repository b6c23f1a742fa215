// Rotation prediction (RotNet; Gidaris, Singh & Komodakis, ICLR 2018,
// https://arxiv.org/abs/1803.07728): every image appears in the batch in all four
// rotations, 0/90/180/270 degrees, labelled 0-3, and a 4-way head learns to tell
// which. Rotations by multiples of 90 degrees are exact (no interpolation).
import { Tensor, cat, arange, tidy } from '../tensor/index.js';

export const ROTATION_DEGREES = [0, 90, 180, 270] as const;

/**
 * Turns images [B, C, H, W] into [4B, C, H, W]: the whole batch at 0°, then at 90°,
 * 180° and 270° (counter-clockwise, `rot90` in the H-W plane), with int64 labels
 * [4B] = 0 (B times), 1 (B times), 2, 3, on the images' device. Square images only.
 */
export function rotationBatch(images: Tensor): { x: Tensor; y: Tensor } {
  const shape = images.shape;
  if (shape.length !== 4) throw new TypeError(`rotationBatch: expected images [B, C, H, W], got [${shape.join(', ')}]`);
  if (shape[2] !== shape[3]) throw new TypeError(`rotationBatch: images must be square to rotate by 90 degrees, got ${shape[2]}x${shape[3]}`);
  return tidy(() => {
    const b = shape[0]!;
    const x = cat([0, 1, 2, 3].map((k) => (k === 0 ? images : images.rot90(k, [2, 3]))), 0);
    // Labels live where the images do: a CUDA batch with CPU labels fails in the loss.
    const y = arange(0, 4, 1, { device: images.device }).repeatInterleave(b);
    return { x, y };
  });
}
