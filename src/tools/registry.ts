import { errorMessage, NoetlError } from '../shared/index.js';
import { artifactTool } from './artifact/index.js';
import { httpTool } from './http/index.js';
import { noopTool } from './noop/index.js';
import { playbookTool } from './playbook/index.js';
import { pythonTool } from './python/index.js';
import { shellTool } from './shell/index.js';
import type { CredentialTarget } from './credentials.js';
import type { ToolContext, ToolDefinition, ToolOutput } from './types.js';

/**
 * The open set of tool kinds (contract 1.4: one registry shared by parser and worker). Heavy
 * tools (postgres, duckdb) register a loader so their modules are imported only when a step
 * first runs them (STYLE.md 5).
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  /** Adds or replaces a tool kind. */
  register(tool: ToolDefinition): this {
    this.tools.set(tool.kind, tool);
    return this;
  }

  /**
   * Adds a kind whose definition is imported on its first use. `options.authTarget` must match the
   * loaded definition's: the pipeline reads it before the module is loaded.
   */
  registerLazy(
    kind: string,
    description: string,
    load: () => Promise<ToolDefinition>,
    options: { readonly authTarget?: CredentialTarget } = {},
  ): this {
    let loading: Promise<ToolDefinition> | undefined;
    const lazy: ToolDefinition = {
      kind,
      description,
      ...(options.authTarget !== undefined ? { authTarget: options.authTarget } : {}),
      async execute(ctx: ToolContext, config: Readonly<Record<string, unknown>>): Promise<ToolOutput> {
        loading ??= load().catch((err: unknown) => {
          loading = undefined;
          throw new NoetlError(
            'TOOL_UNSUPPORTED',
            `tool '${kind}' could not be loaded: ${errorMessage(err)}`,
            { cause: err },
          );
        });
        const tool = await loading;
        return tool.execute(ctx, config);
      },
    };
    return this.register(lazy);
  }

  has(kind: string): boolean {
    return this.tools.has(kind);
  }

  /** The tool of `kind`; TOOL_UNSUPPORTED listing the supported kinds when there is none. */
  get(kind: string): ToolDefinition {
    const tool = this.tools.get(kind);
    if (!tool) {
      throw new NoetlError(
        'TOOL_UNSUPPORTED',
        `tool kind '${kind}' is not supported here (supported: ${this.kinds().join(', ')})`,
        { details: { kind, supported: this.kinds() } },
      );
    }
    return tool;
  }

  /** Registered kinds, sorted. */
  kinds(): string[] {
    return [...this.tools.keys()].sort();
  }
}

/** A registry with every built-in tool. */
export function defaultRegistry(): ToolRegistry {
  return new ToolRegistry()
    .register(noopTool)
    .register(pythonTool)
    .register(shellTool)
    .register(httpTool)
    .register(playbookTool)
    .register(artifactTool)
    .registerLazy(
      'postgres',
      'Runs SQL on PostgreSQL; data is `{columns, rows, row_count}` or `{affected_rows}`.',
      async () => (await import('./postgres/index.js')).postgresTool,
      { authTarget: 'postgres' },
    )
    .registerLazy(
      'duckdb',
      'Runs SQL on DuckDB (`db_path`, default .noetl/state.duckdb).',
      async () => (await import('./duckdb/index.js')).duckdbTool,
    )
    .registerLazy(
      'transfer',
      'Moves rows from http, postgres or duckdb to a postgres or duckdb table, in chunks.',
      async () => (await import('./transfer/index.js')).transferTool,
    )
    .registerLazy(
      'nats',
      'NATS JetStream: KV, object store and stream operations (`operation: kv_get`, `js_publish`...).',
      async () => (await import('./nats/index.js')).natsTool,
      { authTarget: 'nats' },
    )
    .registerLazy(
      'subscription',
      'Bounded drain of a NATS JetStream durable consumer; the messages are the step result.',
      async () => (await import('./subscription/index.js')).subscriptionTool,
      { authTarget: 'nats' },
    )
    .registerLazy(
      'mcp',
      'Calls an MCP server over JSON-RPC 2.0 / HTTP (`method: tools/call`, `tools/list`...).',
      async () => (await import('./mcp/index.js')).mcpTool,
      { authTarget: 'http' },
    );
}
