// The job's process group, as torch.distributed keeps one: the losses that gather
// across ranks (SimCLR's negatives, MoCo's queue) find it here, and act as in one
// process when there is none.
import type { Tensor } from '../tensor/index.js';
import type { ProcessGroup } from './group.js';

let current: ProcessGroup | null = null;

export function setDefaultGroup(group: ProcessGroup | null): void {
  current = group;
}

/** The group of this data-parallel job; null in a one-process run. */
export function defaultGroup(): ProcessGroup | null {
  return current && current.worldSize > 1 ? current : null;
}

/** Every rank's rows of `t` (rank 0's first) with a gradient back to each rank's own; `t` itself in one process. */
export function gatherWithGrad(t: Tensor): Tensor {
  const g = defaultGroup();
  return g ? g.allGatherWithGrad(t) : t;
}

/** Every rank's rows of `t`, without gradient (queues); `t` itself in one process. */
export function gatherNoGrad(t: Tensor): Tensor {
  const g = defaultGroup();
  return g ? g.allGather(t) : t;
}

/** This process's rank and the number of processes (0 and 1 in a one-process run). */
export function rankAndWorld(): { rank: number; worldSize: number } {
  const g = defaultGroup();
  return { rank: g?.rank ?? 0, worldSize: g?.worldSize ?? 1 };
}
