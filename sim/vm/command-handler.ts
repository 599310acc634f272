/** What a remote command produced. */
export interface CommandOutcome {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/** Where `CommandHandler.start` reports the end of a command: exactly one call, once. */
export interface CommandSink {
  done(outcome: CommandOutcome): void;
  failed(error: Error): void;
}

/**
 * Something that answers shell commands as a VM would: the simulated VM's command
 * interpreter implements it, the `direct` transport calls it in process, and the in-process
 * SSH server (sim/ssh) answers `exec` requests with it.
 */
export interface CommandHandler {
  run(command: string, stdin: Buffer): Promise<CommandOutcome>;
  /**
   * `run` without its promise: `sink` is called at the moment `run`'s promise would settle
   * (a caller that wants `then` timing queues one promise job itself). Optional; the
   * direct transport uses it on the probe path, where each promise layer costs.
   */
  start?(command: string, stdin: Buffer, sink: CommandSink): void;
}
