"""Scenario files: the schema, YAML with line numbers, and the one loading entry."""
