import type { ToolDefinition } from '../types.js';
import { executeArtifact } from './execute.js';

export const artifactTool: ToolDefinition = {
  kind: 'artifact',
  description:
    'Keeps values in the result store: `action: put` (`data`) returns a noetl:// `uri`; `action: get` (`uri`) returns the value.',
  execute: executeArtifact,
};
export { FolderResultStore } from './folder-store.js';
