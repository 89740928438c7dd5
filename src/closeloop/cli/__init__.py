"""The `closeloop` command line: the entry point (`main`) and every management command."""
