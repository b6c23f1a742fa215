// Checking a device name before any work starts: 'cpu', 'cuda' or 'cuda:N', and
// for CUDA, that this build of the addon sees such a device. libtorch's own error
// would come only at the first tensor moved, deep inside a training run.
import { native } from '../native/binding.js';
import type { Device } from './dtype.js';
import type { Tensor } from './tensor.js';

/** 'cpu', 'cuda' or 'cuda:N' (any other string, or not a string, is refused). */
export function isDeviceName(device: unknown): device is Device {
  return device === 'cpu' || device === 'cuda' || (typeof device === 'string' && /^cuda:\d+$/.test(device));
}

/**
 * Returns `device` (default 'cpu') when this process can use it; otherwise throws an
 * error that says what was wrong, prefixed with `where` (e.g. 'pretrainRotation').
 */
export function checkDevice(device: string | undefined, where = 'device'): Device {
  if (device === undefined) return 'cpu';
  if (!isDeviceName(device)) {
    throw new TypeError(`${where}: device must be 'cpu', 'cuda' or 'cuda:N' (N a GPU index), got ${JSON.stringify(device)}`);
  }
  if (device === 'cpu') return device;
  if (!native.cudaAvailable()) {
    throw new Error(`${where}: device '${device}' asked for, but CUDA is not available: this selfsup's libtorch (${native.torchVersion}) ` +
      "was built without CUDA or sees no GPU. Use device 'cpu', or rebuild the addon against a CUDA libtorch " +
      '(LIBTORCH=/path/to/torch, then `npm rebuild selfsup` in a project that uses selfsup, `npm run build:native` in the selfsup repository; see the README).');
  }
  const index = device === 'cuda' ? 0 : Number(device.slice(5));
  const count = native.cudaDeviceCount();
  if (index >= count) {
    throw new Error(`${where}: device '${device}' does not exist: libtorch sees ${count} CUDA device${count === 1 ? '' : 's'} (cuda:0${count > 1 ? ` to cuda:${count - 1}` : ''})`);
  }
  return device;
}

/** Do two device names mean the same device? ('cuda' is 'cuda:0', the current device, which selfsup never changes.) */
export function sameDevice(a: string, b: string): boolean {
  const full = (d: string): string => (d === 'cuda' ? 'cuda:0' : d);
  return full(a) === full(b);
}

/** `t` itself when it is on `device`, else a copy there (which the caller, or its scope, frees). */
export function onDevice(t: Tensor, device: string): Tensor {
  return sameDevice(t.device, device) ? t : t.to(device);
}
