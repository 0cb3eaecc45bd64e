"""Sub-commands of the gaitpose CLI, one module each (see gaitpose.cli)."""
