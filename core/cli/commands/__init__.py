"""CLI commands, one module each; see core.cli."""
