import { HostKeyError, NotImplementedError, describeError } from '../ports/errors.js';
import type { ExecutorTarget, Instance } from '../ports/instance-set.js';

/**
 * The ExecutorTarget the pool hands to executors (Arvados' TagVerifier): the SSH host key
 * is accepted when the driver vouches for it, or else when the VM proves it holds the
 * secret we put in its tag at create time. Executors call this on first connect and
 * whenever the key changes.
 */
export class HostVerifier implements ExecutorTarget {
  constructor(
    private instance: Instance,
    private readonly secret: string,
    private readonly catSecretCommand: string,
    /** Called on every verification attempt (first-SSH metric). */
    private readonly onAttempt: () => void,
  ) {}

  /** Follow a fresh listing of the same instance (new address, tags). */
  update(instance: Instance): void {
    this.instance = instance;
  }

  address(): string {
    return this.instance.address();
  }

  remoteUser(): string {
    return this.instance.remoteUser();
  }

  async verifyHostKey(
    key: Buffer,
    run: (command: string) => Promise<{ stdout: Buffer; stderr: Buffer }>,
  ): Promise<void> {
    this.onAttempt();
    try {
      await this.instance.verifyHostKey(key, run);
      return;
    } catch (e) {
      if (!(e instanceof NotImplementedError)) throw e;
      if (this.secret === '') {
        throw new HostKeyError(`verifying host key of ${this.instance.id}: no instance secret tag and no driver check`, { cause: e });
      }
    }
    let out: { stdout: Buffer };
    try {
      out = await run(this.catSecretCommand);
    } catch (e) {
      throw new HostKeyError(`verifying host key of ${this.instance.id}: reading instance secret: ${describeError(e)}`, { cause: e });
    }
    if (out.stdout.toString('utf8') !== this.secret) {
      throw new HostKeyError(`verifying host key of ${this.instance.id}: bad instance secret`);
    }
  }
}
