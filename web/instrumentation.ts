/** Runs once when a server instance starts: every web instance runs an upload job worker (lib/server/upload-jobs.ts). */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { uploadService } = await import("./lib/server/upload-jobs");
  // Not awaited failures: a missing deployment (chain not up yet) must not stop the server; the
  // first upload request starts the service again.
  await uploadService().catch((err: unknown) => console.error(`upload jobs did not start: ${(err as Error).message}`));
}
