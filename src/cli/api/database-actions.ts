import { NoetlError } from '../../shared/index.js';
import type { GlobalFlags } from '../cli-config.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { plural, print, printJson, table } from '../output.js';
import { connectApi } from './connect.js';

function fieldNames(fields: readonly unknown[], rows: readonly Record<string, unknown>[]): string[] {
  const names = fields.map((f) =>
    typeof f === 'string'
      ? f
      : f !== null && typeof f === 'object' && 'name' in f
        ? String(f.name)
        : String(f),
  );
  return names.length > 0 ? names : Object.keys(rows[0] ?? {});
}

/** `noetl query "SQL"`: POST /api/postgres/execute, rows as a table or JSON. */
export async function queryAction(
  ctx: CliContext,
  flags: GlobalFlags,
  sql: string,
  opts: { schema?: string; format?: string; json?: boolean },
): Promise<number> {
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  if (format !== 'table' && format !== 'json')
    throw new NoetlError('USAGE', `--format must be table or json, got '${format}'`);
  if (sql.trim() === '') throw new NoetlError('USAGE', 'query needs SQL text');
  const { client } = await connectApi(ctx, flags);
  const r = await client.query(sql, opts.schema);
  if (format === 'json') {
    printJson(r);
    return EXIT.ok;
  }
  const rows = r.result ?? [];
  const names = fieldNames(r.fields ?? [], rows);
  if (names.length > 0)
    print(
      table(
        names,
        rows.map((row) => names.map((n) => row[n])),
      ),
    );
  print(`(${plural(r.row_count ?? rows.length, 'row')})`);
  return EXIT.ok;
}

/** `noetl db init`: applies pending migrations. */
export async function dbInit(ctx: CliContext, flags: GlobalFlags, opts: { json?: boolean }): Promise<number> {
  const { client } = await connectApi(ctx, flags);
  const r = await client.dbInit();
  if (opts.json) printJson(r);
  else print(r.message);
  return r.valid ? EXIT.ok : EXIT.failed;
}

/** `noetl db validate`: exit 0 when every table is there and no migration is pending, else 1. */
export async function dbValidate(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { json?: boolean },
): Promise<number> {
  const { client } = await connectApi(ctx, flags);
  const r = await client.dbValidate();
  if (opts.json) printJson(r);
  else {
    print(`${r.valid ? 'valid' : 'invalid'}: ${r.message}`);
    if (!r.valid) print('  hint: `noetl db init` applies pending migrations');
  }
  return r.valid ? EXIT.ok : EXIT.failed;
}
