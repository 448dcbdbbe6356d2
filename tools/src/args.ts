/** The `--help`/`-h` option every tools command takes, for `parseArgs` options. */
export const HELP_OPTION = { type: 'boolean', short: 'h' } as const;

/**
 * Runs a command's `parseArgs` call and answers the usage cases the same way for every tools
 * command: an unknown option or one missing its value is a usage error naming it (exit 2),
 * `--help` prints the usage (exit 0), and so does a call without the positional arguments the
 * command needs (exit 2). Returns the parsed options, or the exit code to return at once.
 */
export function commandArgs<T extends { values: { help?: boolean | undefined }; positionals: string[] }>(
  usage: string,
  parse: () => T,
): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    process.stderr.write(usage);
    return 2;
  }
  return parsed;
}
