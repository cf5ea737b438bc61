import type { Results, Transaction } from '@electric-sql/pglite';

type Exec = Pick<Transaction, 'exec'>;

/** SQLSTATE of EXECUTE naming a statement the session does not hold. */
const UNKNOWN_STATEMENT = '26000';

/** A parameter that can travel as an SQL literal; anything else takes the plain path. */
function isScalar(value: unknown): value is string | number | boolean | bigint | null | undefined {
  const t = typeof value;
  return (
    value === null ||
    value === undefined ||
    t === 'string' ||
    t === 'number' ||
    t === 'boolean' ||
    t === 'bigint'
  );
}

/**
 * An SQL literal of a scalar, quoted as libpq's PQescapeLiteral does: single quotes doubled and,
 * when the text holds a backslash, backslashes doubled in an E'' string, so the literal means
 * the same whatever `standard_conforming_strings` says. Quoted numbers are fine: an untyped
 * literal takes the type PREPARE inferred for its parameter.
 */
export function sqlLiteral(value: string | number | boolean | bigint | null | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  const text = String(value);
  const quoted = `'${text.replaceAll("'", "''")}'`;
  return text.includes('\\') ? `E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}

/**
 * Named prepared statements for PGlite, which plans every `query()` anew (its extended protocol
 * uses the unnamed statement). A statement is prepared in the session with SQL `PREPARE` on its
 * first use and run as `EXECUTE name(literals)` over the simple protocol: PostgreSQL compiled to
 * WebAssembly spends about as long planning the big projection statements as running them.
 * Only statements whose parameters are all scalars go this way.
 */
let instances = 0;

/**
 * Uses after which a statement is prepared anew (then every tenfold). PGlite runs no ANALYZE
 * on its own (no autovacuum in its one session), so nothing ever invalidates a plan: the generic
 * plan PostgreSQL settles on after a statement's first uses keeps the join order it chose for the
 * tables as they were then, on a new server nearly empty, and a scan of a whole table stays in
 * it as the table grows (docs/benchmarks.md). Preparing again plans for the tables as they are.
 */
export const REPLAN_FIRST = 100;

export class PreparedStatements {
  /** Names unique per instance, should two share a session. */
  private readonly prefix = `noetl_p${++instances}_`;
  private readonly names = new Map<string, string>();
  private readonly prepared = new Set<string>();
  /** Uses of each statement, and the use count at which it is prepared anew. */
  private readonly uses = new Map<string, { n: number; replanAt: number }>();
  /** Statements PREPARE refused (kept on the plain path). */
  private readonly refused = new Set<string>();

  register(texts: Iterable<string>): void {
    for (const text of texts) {
      if (!this.names.has(text)) this.names.set(text, `${this.prefix}${this.names.size + 1}`);
    }
  }

  /** Runs `text` as a prepared statement, or returns undefined when it should take the plain path. */
  async run(on: Exec, text: string, params: readonly unknown[], inTx: boolean): Promise<Results | undefined> {
    const name = this.names.get(text);
    if (name === undefined || this.refused.has(name) || !params.every(isScalar)) return undefined;
    const call = `EXECUTE ${name}(${params.map((p) => sqlLiteral(p)).join(', ')})`;
    const use = this.uses.get(name) ?? { n: 0, replanAt: REPLAN_FIRST };
    this.uses.set(name, use);
    if (++use.n >= use.replanAt && this.prepared.has(name)) {
      use.replanAt *= 10;
      await this.deallocate(on, name, inTx);
    }
    for (let attempt = 0; ; attempt++) {
      if (!this.prepared.has(name)) {
        try {
          // Inside a transaction a savepoint keeps a refused PREPARE from aborting it.
          await on.exec(
            inTx
              ? `SAVEPOINT noetl_prepare; PREPARE ${name} AS ${text}; RELEASE SAVEPOINT noetl_prepare`
              : `PREPARE ${name} AS ${text}`,
          );
        } catch {
          // Not preparable (a parameter whose type PostgreSQL cannot infer, say): stay plain.
          if (inTx) await on.exec('ROLLBACK TO SAVEPOINT noetl_prepare; RELEASE SAVEPOINT noetl_prepare');
          this.refused.add(name);
          return undefined;
        }
        this.prepared.add(name);
      }
      try {
        const results = await on.exec(call);
        return results[results.length - 1];
      } catch (error) {
        // The session lost it (PREPARE outlives rollbacks, but not a new session): once more.
        if (attempt === 0 && (error as { code?: string }).code === UNKNOWN_STATEMENT) {
          this.prepared.delete(name);
          continue;
        }
        throw error;
      }
    }
  }

  /** Drops a prepared statement, to be prepared anew (one the session lacks is no error). */
  private async deallocate(on: Exec, name: string, inTx: boolean): Promise<void> {
    this.prepared.delete(name);
    try {
      await on.exec(
        inTx
          ? `SAVEPOINT noetl_prepare; DEALLOCATE ${name}; RELEASE SAVEPOINT noetl_prepare`
          : `DEALLOCATE ${name}`,
      );
    } catch {
      if (inTx) await on.exec('ROLLBACK TO SAVEPOINT noetl_prepare; RELEASE SAVEPOINT noetl_prepare');
    }
  }
}
