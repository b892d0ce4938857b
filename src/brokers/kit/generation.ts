/**
 * A generation token per connection. Sockets, SDK clients and REST calls keep calling back after
 * we have replaced them; every callback is tied to the generation it was made for and ignored
 * once that connection is superseded. One counter, so "which connection is this?" has one answer.
 */
export class Generation {
  private n = 0;

  /** Starts a new connection (or ends the current one): every older token goes stale. */
  next(): number {
    return ++this.n;
  }

  get current(): number {
    return this.n;
  }

  isCurrent(token: number): boolean {
    return token === this.n;
  }

  /** `fn` wrapped to do nothing (and return undefined) once `token` is superseded. */
  guard<A extends unknown[], R>(token: number, fn: (...args: A) => R): (...args: A) => R | undefined {
    return (...args: A) => (token === this.n ? fn(...args) : undefined);
  }
}
