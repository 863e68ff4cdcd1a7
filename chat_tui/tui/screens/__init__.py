"""Modal screens: help, pickers, confirmation, rename, first-run setup."""
