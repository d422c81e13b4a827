"""Pure parsing: nginx configuration, access-log lines, tokens and HTTP headers.

Nothing in this package performs I/O beyond reading the files it is asked to parse, and
nothing here imports a UI toolkit.
"""
