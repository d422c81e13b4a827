"""nginx's own languages: the configuration file and log_format lines."""
