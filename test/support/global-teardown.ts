export default async function globalTeardown(): Promise<void> {
  await globalThis.__BOBSYNC_TEMPORAL__?.stop();
}
