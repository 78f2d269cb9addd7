import { zipSync } from "fflate";

/** The project's files as a zip archive (deflated, UTF-8 names, paths as stored). */
export function zipFiles(files: { path: string; content: string }[]): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  // fflate allocates plain ArrayBuffers; its types only say ArrayBufferLike.
  return zipSync(Object.fromEntries(files.map((f) => [f.path, encoder.encode(f.content)])), {
    level: 6,
  }) as Uint8Array<ArrayBuffer>;
}
