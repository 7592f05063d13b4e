// A load balancer asks each server GET /api/v1/health every few seconds, all
// day, and a supervisor GET /api/v1/health/live: a log line for each would
// bury the requests that matter. So a health check is logged when it says
// something new: the server's first of each path, each one that fails (with
// its reason), and the first that succeeds after a failure. A success after
// a success is not logged.

export class HealthLog {
  /** By path: whether its last check succeeded. */
  private readonly lastOk = new Map<string, boolean>();

  /** Whether a health answer on `path` with this status goes to the log. */
  worthLogging(path: string, status: number): boolean {
    const ok = status >= 200 && status < 300;
    const news = !(ok && this.lastOk.get(path));
    this.lastOk.set(path, ok);
    return news;
  }
}
