// The variables torchrun (and `selfsup launch`) set for each process, read and checked.
export interface DistributedEnv {
  rank: number;
  worldSize: number;
  /** The process's index on its machine (which GPU a CUDA rank uses). */
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

/** The run's place in a data-parallel job, or null when WORLD_SIZE is not set (one process). */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | null {
  if (env.WORLD_SIZE === undefined) return null;
  const int = (name: string, min: number, fallback?: string): number => {
    const raw = env[name] ?? fallback;
    const v = Number(raw);
    if (raw === undefined || raw === '' || !Number.isInteger(v) || v < min) {
      throw new RangeError(`${name}=${raw ?? '(unset)'}: expected an integer >= ${min} (data-parallel runs need RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, as torchrun sets them)`);
    }
    return v;
  };
  const worldSize = int('WORLD_SIZE', 1);
  const rank = int('RANK', 0);
  if (rank >= worldSize) throw new RangeError(`RANK=${rank} is not below WORLD_SIZE=${worldSize}`);
  const masterPort = int('MASTER_PORT', 1, '29500');
  if (masterPort > 65535) throw new RangeError(`MASTER_PORT=${masterPort}: expected 1..65535`);
  return { rank, worldSize, localRank: int('LOCAL_RANK', 0, String(rank)), masterAddr: env.MASTER_ADDR ?? '127.0.0.1', masterPort };
}
