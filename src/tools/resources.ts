/**
 * Process-wide resources that tools keep between steps (PostgreSQL pools). A tool module adds its
 * closer when it is first loaded; hosts call closeToolResources() when a run or a worker ends, so
 * nothing idle keeps the process alive. Tools never loaded cost nothing here.
 */
const closers = new Set<() => Promise<void>>();

/** Registers a closer (idempotent per function). */
export function onToolResourcesClose(close: () => Promise<void>): void {
  closers.add(close);
}

/** Closes every resource tools opened; safe to call more than once. */
export async function closeToolResources(): Promise<void> {
  await Promise.allSettled([...closers].map((close) => close()));
}
