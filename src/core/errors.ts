/** Small error factories, one idea each. Messages are one line, name the problem and the fix. */

/** Bad configuration or flags: the CLI prints the message alone and exits 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const missingEnv = (names: string[], what: string) =>
  new ConfigError(`${what} needs ${names.join(' and ')}: set ${names.length > 1 ? 'them' : 'it'} in the environment`);

/** The text of a thrown value: an Error's message, else the value as a string. The one rule for logs, status fields and replies. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
