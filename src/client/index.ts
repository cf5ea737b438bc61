// The typed HTTP client of the public API (docs/architecture.md, "Parts"): used by workers, the
// CLI and the TUI. Light on purpose: the CLI's API commands load it without the tool registry.
export * from './client.js';
