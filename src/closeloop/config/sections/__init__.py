"""One module per section of the configuration file: desired rows, diff, write and export together."""
