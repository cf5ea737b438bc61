export * from './events.js';
export {
  applyEvent,
  newExecutionState,
  templateView,
  isRunning,
  type ExecutionState,
  type ExecutionStatus,
  type StepState,
  type StepStatus,
  type StepError,
  type LoopRun,
} from './state.js';
export {
  startExecution,
  resumeExecution,
  decide,
  cancelExecution,
  replay,
  effectiveWorkload,
  entryStep,
  stripScope,
  DEFAULT_STEP_BUDGET,
  type EngineDeps,
  type Decision,
  type StartOptions,
} from './decide.js';
export { executionScope } from './scope.js';
export {
  namesReadBy,
  snapshotScope,
  keychainReadBy,
  namesReadByKeychain,
  type Command,
  type CommandContext,
} from './command.js';
export { toIterable } from './loop-items.js';
export { graphOf, type PlaybookGraph } from './graph.js';
export { outcomeEvents, type OutcomeEvent, type ToolOutcome } from './outcome.js';
