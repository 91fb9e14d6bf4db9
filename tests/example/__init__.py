"""The profile example's own tests: removed with the example (docs/architecture.md, Removing the example)."""
