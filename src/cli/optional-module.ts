// Parts of selfsup that other engineers are still writing (text experiments,
// word vectors) are imported when asked for, so the CLI builds and runs without
// them and says clearly what is missing when they are needed.

/**
 * Imports `specifier` (relative to src/cli) and checks it exports `names` as functions.
 * A missing module becomes an error naming `what`; a module that fails for another
 * reason keeps its own error.
 */
export async function importOptional<T>(specifier: string, what: string, names: readonly string[]): Promise<T> {
  const url = new URL(specifier, import.meta.url);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url.href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(url.pathname)) {
      throw new Error(`${what}: not available in this build of selfsup (${url.pathname} is missing)`);
    }
    throw err;
  }
  const missing = names.filter((n) => typeof mod[n] !== 'function');
  if (missing.length) throw new Error(`${url.pathname} does not export ${missing.join(' and ')}, which the CLI needs for ${what}`);
  return mod as T;
}
