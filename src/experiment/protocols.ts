// How the experiment names what it runs: baselines ('scratch', 'transfer', 'label-spreading') and
// `<pretext>-<protocol>` pairs, where the pretext is any registered method and the
// protocol says how its encoder meets the labels.
import { methodNames } from '../ssl/catalog.js';

export const PROTOCOLS = ['finetune', 'probe', 'knn', 'distill', 'propagate'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
/**
 * scratch: the network trained on the labels alone; transfer: fine-tuned from another labelled
 * domain; label-spreading: the labels spread over a kNN graph of the raw pixels, no network at
 * all (what the propagate protocol's graph would give without a pretext).
 */
export const BASELINES = ['scratch', 'transfer', 'label-spreading'] as const;
export type Baseline = (typeof BASELINES)[number];

export interface ParsedMethod {
  /** The registered pretext method, or null for a baseline. */
  pretext: string | null;
  /** The protocol, or the baseline's own name. */
  protocol: Protocol | Baseline;
}

/** 'simclr-knn' -> { pretext: 'simclr', protocol: 'knn' }; 'scratch' -> { pretext: null, protocol: 'scratch' }. */
export function parseMethod(name: string): ParsedMethod {
  if ((BASELINES as readonly string[]).includes(name)) return { pretext: null, protocol: name as Baseline };
  const cut = name.lastIndexOf('-');
  const pretext = name.slice(0, cut);
  const protocol = name.slice(cut + 1);
  if (cut < 1 || !(PROTOCOLS as readonly string[]).includes(protocol) || !methodNames('image').includes(pretext)) {
    throw new RangeError(`unknown experiment method '${name}': use scratch, transfer, or <method>-<protocol> with a method of ${methodNames('image').join(', ')} and a protocol of ${PROTOCOLS.join(', ')}`);
  }
  return { pretext, protocol: protocol as Protocol };
}

/** Every `<pretext>-<protocol>` pair, pretexts outermost. */
export function expandMethods(pretexts: readonly string[], protocols: readonly Protocol[]): string[] {
  return pretexts.flatMap((p) => protocols.map((q) => `${p}-${q}`));
}

/** Every name the experiment accepts, for help texts and option checks. */
export function experimentMethodNames(): string[] {
  return [...BASELINES, ...expandMethods(methodNames('image'), PROTOCOLS)];
}
