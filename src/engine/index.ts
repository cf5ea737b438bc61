export * from './events.js';
export {
  applyEvent,
  isRunning,
  type ExecutionState,
  type ExecutionStatus,
  type StepState,
  type StepStatus,
  type StepError,
} from './state.js';
export {
  startExecution,
  resumeExecution,
  decide,
  cancelExecution,
  replay,
  effectiveWorkload,
  entryStep,
  type EngineDeps,
  type Decision,
  type StartOptions,
} from './decide.js';
export { type Command } from './command.js';
export { graphOf, type PlaybookGraph } from './graph.js';
export { outcomeEvents, type ToolOutcome } from './outcome.js';
export {
  externalizeOutcome,
  INLINE_MAX_BYTES,
  PREVIEW_MAX_BYTES,
  type PutResult,
  type StoredValue,
} from './externalize.js';
