import { CancelledError } from '../../shared/index.js';
import { applyToolAuth } from '../credentials.js';
import { readDbPath } from '../duckdb/config.js';
import { readPgConnection } from '../postgres/config.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { KIND, readTransferConfig, type TransferConfig } from './config.js';
import { httpSourceRows } from './http-source.js';
import { rechunk, rowShape, type Row, type RowShape } from './rows.js';
import { duckdbSourceRows, pgSourceRows } from './sql-sources.js';
import { duckdbTarget, pgTarget, type TargetWriter } from './targets.js';

async function openSource(ctx: ToolContext, config: TransferConfig): Promise<AsyncGenerator<Row[]>> {
  const { source } = config;
  switch (source.type) {
    case 'http':
      return httpSourceRows(ctx, source);
    case 'postgres': {
      const fields = await applyToolAuth('postgres', source.connection, ctx.services, ctx.signal);
      return pgSourceRows(ctx, readPgConnection(KIND, fields), source, config.chunkSize);
    }
    case 'duckdb':
      return duckdbSourceRows(ctx, source);
  }
}

async function openTarget(ctx: ToolContext, config: TransferConfig): Promise<TargetWriter> {
  const { target } = config;
  const options = {
    table: target.table,
    mode: config.mode,
    key: target.key,
    chunkSize: config.chunkSize,
    signal: ctx.signal,
  };
  if (target.type === 'duckdb') return duckdbTarget(readDbPath(KIND, target.connection), options);
  const fields = await applyToolAuth('postgres', target.connection, ctx.services, ctx.signal);
  return pgTarget(readPgConnection(KIND, fields), options);
}

/**
 * Moves rows from `source` to `target` chunk by chunk: while one chunk is written the next is
 * read, so reading and writing overlap and at most two chunks are in memory.
 */
export async function executeTransfer(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const started = Date.now();
  const config = readTransferConfig(rawConfig);
  const target = await openTarget(ctx, config);
  let chunks: AsyncGenerator<Row[], void> | undefined;
  let rowsRead = 0;
  let rowsWritten = 0;
  let count = 0;
  let shape: RowShape | undefined;
  try {
    chunks = rechunk(await openSource(ctx, config), config.chunkSize);
    await target.begin();
    let pending = chunks.next();
    for (;;) {
      const { value: chunk, done } = await pending;
      if (done) break;
      pending = chunks.next();
      // If the write below fails first, this read's outcome no longer matters.
      pending.catch(() => undefined);
      shape ??= rowShape(config.target.mapping, chunk[0] ?? {});
      const { readers } = shape;
      const values = chunk.map((row) => readers.map((read) => read(row)));
      rowsWritten += await target.write(shape.columns, values);
      rowsRead += chunk.length;
      count++;
      if (ctx.signal.aborted) throw new CancelledError('transfer: cancelled');
    }
    await target.commit();
  } catch (err) {
    await target.abort();
    await chunks?.return(undefined).catch(() => undefined);
    if (ctx.signal.aborted && !(err instanceof CancelledError))
      throw new CancelledError('transfer: cancelled');
    throw err;
  }
  return {
    data: {
      rows_read: rowsRead,
      rows_written: rowsWritten,
      chunks: count,
      duration_ms: Date.now() - started,
      source_type: config.source.type,
      target_type: config.target.type,
      mode: config.mode,
      target_table: config.target.table,
      columns: shape?.columns ?? [],
      // NoETL's names for the same counts.
      rows_transferred: rowsWritten,
      chunks_processed: count,
    },
  };
}
