"""sitewatch application shell: the CLI, the one YAML config, the worker. Owns no algorithm."""
