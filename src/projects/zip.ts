import { Zip, ZipDeflate } from "fflate";

/**
 * The project's files as a zip archive (deflated, UTF-8 names, paths as stored), added one entry
 * at a time: `zipSync` takes an object keyed by path, and a key such as `__proto__` would set that
 * object's prototype instead of naming a file. The entries are synchronous, so the archive is
 * complete when `end()` returns.
 */
export function zipFiles(files: { path: string; content: string }[]): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    chunks.push(chunk);
  });
  for (const file of files) {
    const entry = new ZipDeflate(file.path, { level: 6 });
    zip.add(entry);
    entry.push(encoder.encode(file.content), true);
  }
  zip.end();
  const archive = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    archive.set(chunk, offset);
    offset += chunk.length;
  }
  return archive;
}
