"""The configuration file: `closeloop config apply` and `closeloop config export`."""
