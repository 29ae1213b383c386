/**
 * The application's error classes. Each says who throws it and when; the CLI maps them to exit codes:
 * {@link UsageError} and its subclasses exit 2 (nothing was started or changed), everything else exits 1.
 */

/** Bad input from the user: CLI arguments, a task, an id. Thrown before anything is started or changed. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** config/workflow.yaml (or an environment variable) is unreadable or invalid. Thrown by `loadConfig`. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

/** The Temporal CLI (for the embedded server) cannot be found or installed. Thrown by `findTemporalCli`. */
export class TemporalCliNotFoundError extends Error {
  override name = 'TemporalCliNotFoundError';
}

/**
 * The embedded server cannot start or be reached: the port is taken by another program, the process
 * died, or it did not become healthy in time. Thrown by `ensureDevServer`; `logPath` holds its log.
 */
export class DevServerError extends Error {
  override name = 'DevServerError';
  constructor(
    message: string,
    readonly logPath?: string,
  ) {
    super(message);
  }
}

/** A configured Temporal cluster did not answer. Thrown by `connectTemporal`. */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
  constructor(
    message: string,
    readonly address: string,
  ) {
    super(message);
  }
}
