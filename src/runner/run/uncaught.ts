/**
 * Errors a block's code throws where no one awaits them: a throw inside `setTimeout`, a `$` call
 * nobody awaited that fails, a rejected promise left behind. Without this they end the process
 * with a stack trace and no verdict; with it they fail the block that is running (or, when none
 * is, the next one to start), at the .md line of the code that threw.
 */
export class UncaughtErrors {
  private late: unknown[] = [];
  private fail?: (error: unknown) => void;
  /** An error of the blocks' code that no one awaited (also from a kernel thread). */
  readonly report = (error: unknown) => {
    if (this.fail) this.fail(error);
    else this.late.push(error);
  };

  /** From now until `stop`, uncaught errors and unhandled rejections are the blocks'. */
  start(): this {
    process.on('uncaughtException', this.report);
    process.on('unhandledRejection', this.report);
    return this;
  }

  stop(): void {
    process.off('uncaughtException', this.report);
    process.off('unhandledRejection', this.report);
  }

  /** The running attempt's failure callback; an error that came while no block ran fails it at once. */
  bind(fail: ((error: unknown) => void) | undefined): void {
    this.fail = fail;
    const late = this.late.shift();
    this.late = [];
    if (fail && late !== undefined) fail(late);
  }
}
