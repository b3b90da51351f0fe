/**
 * Every failure a user can hit is a LifeboatError of one kind. The kind decides the CLI's exit
 * code (documented in the README), so scripts and the POS app can react without parsing text.
 */
export type ErrorKind =
  | 'usage' // bad command-line input
  | 'source' // database missing, not a file, not SQLite, unreadable
  | 'busy' // database (or restore target) stayed locked/busy after every retry
  | 'check' // integrity check or checksum failed: the copy or the source is damaged
  | 'destination' // cannot write where the backup goes (permission, disk full, missing folder)
  | 'config' // config.json is broken, or a job setting is refused
  | 'agent' // the running agent was needed and is not there
  | 'auth' // a cloud account needs to be connected again (expired or revoked access)
  | 'internal'; // a bug in Lifeboat

export const EXIT_CODES: Readonly<Record<ErrorKind | 'ok', number>> = {
  ok: 0,
  internal: 1,
  usage: 2,
  source: 3,
  busy: 4,
  check: 5,
  destination: 6,
  config: 7,
  agent: 8,
  auth: 9,
};

export class LifeboatError extends Error {
  readonly kind: ErrorKind;
  /** What the person should do about it, in one sentence. */
  readonly hint: string;

  constructor(kind: ErrorKind, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LifeboatError';
    this.kind = kind;
    this.hint = hint;
  }

  /** One line for a human: what happened, then what to do. */
  toLine(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }

  toJSON(): SerializedError {
    return { kind: this.kind, message: this.message, hint: this.hint };
  }
}

export interface SerializedError {
  kind: ErrorKind;
  message: string;
  hint: string;
}

export function fromSerialized(e: SerializedError): LifeboatError {
  return new LifeboatError(e.kind, e.message, e.hint);
}

/** Node's errno code of an error, if it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Turns a file-system error while writing a backup into a destination error that says what to do. */
export function destinationError(err: unknown, dir: string): LifeboatError {
  if (err instanceof LifeboatError) return err;
  const code = errnoCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new LifeboatError('destination', `The backup folder ${dir} is full.`,
        'Free some space there or choose another destination; nothing was changed in the existing backups.', { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new LifeboatError('destination', `Lifeboat may not write to ${dir} (permission denied).`,
        'Choose a folder this user can write to, or fix the folder\'s permissions.', { cause: err });
    case 'EROFS':
      return new LifeboatError('destination', `The backup folder ${dir} is on a read-only disk.`,
        'Choose a writable destination (is the drive write-protected or mounted read-only?).', { cause: err });
    case 'ENOENT':
      return new LifeboatError('destination', `The backup folder ${dir} does not exist or disappeared.`,
        'Check that the drive or network share is connected, or choose another destination.', { cause: err });
    case 'ENOTDIR':
      return new LifeboatError('destination', `${dir} is not a folder.`,
        'Point --dest at a folder.', { cause: err });
    default:
      return new LifeboatError('destination', `Could not write the backup to ${dir}: ${detail}`,
        'Check the destination folder and try again.', { cause: err });
  }
}
