"""Modal screens: apply, help, reveal, filter, save, doctor."""
