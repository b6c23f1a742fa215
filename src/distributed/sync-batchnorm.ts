// SyncBatchNorm: in training, every batch-norm layer normalises with the mean and
// variance of the global batch (all ranks' rows), as PyTorch's SyncBatchNorm does, so
// N processes with batch B compute what one process with batch N x B would. Each
// layer all-gathers [sum, sum of squares, count] per channel with a gradient (the
// backward sums over ranks), then normalises locally. Eval mode is unchanged.
// Each rank sends its count, mean and centred sum of squares, combined as Chan et al.'s
// parallel variance: sum(x^2) - n mean^2 in float32 loses a near-constant channel.
import { BatchNorm1d, BatchNorm2d, type Module } from '../nn/index.js';
import { Tensor, cat, noGrad, tensor } from '../tensor/index.js';
import type { ProcessGroup } from './group.js';

type AnyBatchNorm = BatchNorm1d | BatchNorm2d;

/** Makes every batch-norm layer of `model` synchronise over `group`; returns a function that undoes it. */
export function convertSyncBatchNorm(model: Module, group: ProcessGroup): () => void {
  const layers = model.namedModules().map(([, m]) => m).filter((m): m is AnyBatchNorm => m instanceof BatchNorm1d || m instanceof BatchNorm2d);
  for (const bn of layers) bn.syncForward = (x, momentum) => syncBatchNorm(bn, x, momentum, group);
  return () => { for (const bn of layers) bn.syncForward = null; };
}

function syncBatchNorm(bn: AnyBatchNorm, x: Tensor, momentum: number, group: ProcessGroup): Tensor {
  const c = bn.numFeatures;
  const dims = x.ndim === 2 ? [0] : x.ndim === 3 ? [0, 2] : [0, 2, 3];
  const shape = x.ndim === 2 ? [1, c] : x.ndim === 3 ? [1, c, 1] : [1, c, 1, 1];
  const localMean = x.mean(dims, true);
  const centredSquares = x.sub(localMean).pow(2).sum(dims);
  const local = cat([localMean.reshape(-1), centredSquares, tensor([x.numel / c], { device: x.device })], 0);
  const all = group.allGatherWithGrad(local.unsqueeze(0)); // [W, 2C + 1]
  const counts = all.narrow(1, 2 * c, 1); // [W, 1]
  const n = counts.sum(0); // [1]
  const means = all.narrow(1, 0, c); // [W, C]
  const mean = means.mul(counts).sum(0).div(n);
  const spread = means.sub(mean.unsqueeze(0)).pow(2).mul(counts).sum(0);
  const variance = all.narrow(1, c, c).sum(0).add(spread).div(n);
  let y = x.sub(mean.view(shape)).div(variance.add(bn.eps).sqrt().view(shape));
  if (bn.weight && bn.bias) y = y.mul(bn.weight.view(shape)).add(bn.bias.view(shape));
  if (bn.runningMean && bn.runningVar) {
    // As batch_norm does: the running variance takes the unbiased estimate.
    noGrad(() => {
      const count = n.item();
      bn.runningMean!.mul_(1 - momentum).add_(mean.detach(), momentum);
      bn.runningVar!.mul_(1 - momentum).add_(variance.detach().mul(count / Math.max(1, count - 1)), momentum);
    });
  }
  return y;
}
