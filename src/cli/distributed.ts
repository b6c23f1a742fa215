// What a CLI command does differently as one rank of a data-parallel job: join the
// group torchrun's variables describe, train on this rank's device, and speak only
// as rank 0 (the others' notes and results would repeat rank 0's).
import { distributedEnv, ProcessGroup } from '../distributed/index.js';
import { Output } from './output.js';

export interface RankContext {
  /** The group, or undefined in a one-process run. */
  group?: ProcessGroup;
  /** Rank 0, or the only process: writes files and speaks. */
  root: boolean;
  /** `device`, or cuda:LOCAL_RANK for a CUDA rank. */
  device: string;
  out: Output;
}

class SilentOutput extends Output {
  override say(): void {}
  override note(): void {}
  override result(): void {}
}

export async function joinJob(device: string, out: Output): Promise<RankContext> {
  const env = distributedEnv();
  if (!env || env.worldSize === 1) return { root: true, device, out };
  const cuda = device.startsWith('cuda');
  const group = await ProcessGroup.init({ backend: cuda ? 'nccl' : 'gloo' });
  const root = group.rank === 0;
  return { group, root, device: device === 'cuda' ? `cuda:${env.localRank}` : device, out: root ? out : new SilentOutput(out.json, out.verbose) };
}
