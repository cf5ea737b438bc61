import type { ToolContext, ToolOutput } from '../types.js';
import { readNoopConfig } from './config.js';

export function executeNoop(
  _ctx: ToolContext,
  config: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  return Promise.resolve({ data: readNoopConfig(config).result });
}
