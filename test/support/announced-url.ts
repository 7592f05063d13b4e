// `keyward serve --port 0` picks its port and says it once on stderr
// ("listening on http://127.0.0.1:PORT …"): every test and benchmark that
// starts a real server waits for that line here.
import type { ChildProcess } from 'node:child_process';

/**
 * The URL a starting `keyward serve` announces; refused with what it wrote to
 * stderr if it exits first. `stderr()` keeps all it writes, after the line too.
 */
export function announcedUrl(child: ChildProcess): { url: Promise<string>; stderr: () => string } {
  let err = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      // The URL ends where the line goes on (a chunk may end inside it).
      const m = /listening on (http:\/\/\S+)\s/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code, signal) => reject(new Error(`keyward serve exited (${signal ?? code}) before listening: ${err.trim()}`)));
  });
  return { url, stderr: () => err };
}
