/**
 * NetloomError: the one error type the engine throws for anything a user can cause or fix.
 *
 * `code` is stable (NL_ + SCREAMING_SNAKE, shared with native and the API), `message` says what
 * was wrong and where, `hint` says what to do about it. The CLI prints message and hint and
 * exits non-zero; the app shows them on the node or in a toast. Stacks stay in logs.
 */
export type ErrorCode =
  | 'NL_INVALID_ARGUMENT'
  | 'NL_INVALID_PROGRAM'
  | 'NL_SHAPE_MISMATCH'
  | 'NL_BAD_LABEL'
  | 'NL_OOM'
  | 'NL_NON_FINITE'
  | 'NL_STOPPED'
  | 'NL_INTERNAL'
  | 'NL_BAD_PROJECT'
  | 'NL_BAD_GRAPH'
  | 'NL_BAD_DATASET'
  | 'NL_DATASET_MISSING'
  | 'NL_DOWNLOAD'
  | 'NL_BAD_CHECKPOINT'
  | 'NL_CHECKPOINT_MISMATCH'
  | 'NL_NATIVE_LOAD'
  | 'NL_IO'
  /** a save would replace an existing file and the call did not say `overwrite` (the UI asks, then retries) */
  | 'NL_EXISTS'
  | 'NL_UNSUPPORTED';

export class NetloomError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetloomError';
    this.code = code;
    this.hint = hint;
  }

  /** "message\n  hint: ..." as the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}

export function isNetloomError(e: unknown): e is NetloomError {
  return e instanceof NetloomError;
}
