// A load balancer asks each server GET /api/v1/health every few seconds, all
// day: a log line for each would bury the requests that matter. So a health
// check is logged when it says something new: the server's first, each one
// that fails (with its reason), and the first that succeeds after a failure.
// A success after a success is not logged.

export class HealthLog {
  private lastOk = false;

  /** Whether a health answer with this status goes to the log. */
  worthLogging(status: number): boolean {
    const ok = status >= 200 && status < 300;
    const news = !(ok && this.lastOk);
    this.lastOk = ok;
    return news;
  }
}
