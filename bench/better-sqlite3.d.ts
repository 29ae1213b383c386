/** The few calls of better-sqlite3 the bench makes (the package ships no types). */
declare module 'better-sqlite3' {
  interface Statement {
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
    run(...params: unknown[]): unknown;
  }
  class Database {
    constructor(path: string, options?: { readonly?: boolean });
    prepare(sql: string): Statement;
    close(): void;
    transaction<A extends unknown[]>(f: (...args: A) => void): (...args: A) => void;
  }
  export default Database;
}
