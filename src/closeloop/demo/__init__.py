"""A realistic demo organisation with a month of responses, loaded by `closeloop demo`."""
