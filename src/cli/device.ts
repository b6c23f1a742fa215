// --device: where a command trains and evaluates. Checked before any data is read,
// so that `--device cuda` on a machine without CUDA fails at once, saying why.
import { checkDevice } from '../tensor/device.js';
import { UsageError } from './errors.js';
import type { Args } from './options.js';

/** `device` when this process can use it (undefined: 'cpu'); otherwise a UsageError naming `where` it came from. */
export function usableDevice(device: string | undefined, where: string): string {
  try {
    return checkDevice(device, where);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The --device option, checked. */
export function deviceOption(args: Args): string {
  return usableDevice(args.string('device') ?? 'cpu', '--device');
}
