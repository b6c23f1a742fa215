// A weights file that carries its own description. encoder.json, classifier.json and
// text-encoder.json are written after their .safetensors; a process killed between the
// two leaves new weights beside the old description. So the weights file also holds
// the description it was saved with, and both carry one save id: when the ids differ,
// the description inside the weights is the one that fits them.
import { randomUUID } from 'node:crypto';
import { readSafetensorsHeader } from './safetensors.js';

const DESCRIPTION_KEY = 'selfsup_description';

/** A fresh id for one save of weights and description. */
export const newSaveId = (): string => randomUUID();

/** `metadata` plus the description (which must hold `saveId`), for the weights file. */
export function describedMetadata(info: { saveId: string }, metadata: Record<string, string>): Record<string, string> {
  return { ...metadata, save_id: info.saveId, [DESCRIPTION_KEY]: JSON.stringify(info) };
}

/**
 * The description that fits `weights`: `info` (read from `json`) unless the weights file
 * carries one from another save, which then wins, with a note on stderr. A description
 * edited by hand keeps its save id, so it is still the one used.
 */
export function descriptionFitting<T extends { saveId?: string }>(json: string, info: T, weights: string): T {
  const metadata = readSafetensorsHeader(weights).metadata;
  const inside = metadata?.[DESCRIPTION_KEY];
  if (inside === undefined || metadata?.save_id === info.saveId) return info;
  process.stderr.write(`selfsup: ${json} is from another save than ${weights} (a save was interrupted between the two); using the description saved inside ${weights}\n`);
  return JSON.parse(inside) as T;
}
