/** What a remote command produced. */
export interface CommandOutcome {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/**
 * Something that answers shell commands as a VM would: the simulated VM's command
 * interpreter implements it, the `direct` transport calls it in process, and the in-process
 * SSH server (sim/ssh) answers `exec` requests with it.
 */
export interface CommandHandler {
  run(command: string, stdin: Buffer): Promise<CommandOutcome>;
}
