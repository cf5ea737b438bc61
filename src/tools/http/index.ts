import type { ToolDefinition } from '../types.js';
import { executeHttp } from './execute.js';

export const httpTool: ToolDefinition = {
  kind: 'http',
  description: 'Sends an HTTP request; data is `{status_code, headers, data, body}`.',
  authTarget: 'http',
  execute: executeHttp,
};
