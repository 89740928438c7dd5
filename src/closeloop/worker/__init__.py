"""The background worker: every periodic step, in one explicit order, run until nothing more is due."""
