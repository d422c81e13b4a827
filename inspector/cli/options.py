"""Command-line flag groups shared by several commands, so every command spells them alike."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config``: the TOML file (default ``~/.config/token-inspector/config.toml``)."""
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="personal TOML configuration, read over /etc/token-inspector/config.toml "
        "(default: $TOKEN_INSPECTOR_CONFIG, else ~/.config/token-inspector/config.toml)",
    )


def add_log_selection(parser: argparse.ArgumentParser, *, positional: bool = True) -> None:
    """Which log files to read and how to parse them."""
    group = parser.add_argument_group("log selection")
    if positional:
        group.add_argument(
            "logs",
            nargs="*",
            metavar="LOG",
            help="access log files ('-' for standard input); default: the log that "
            "nginx.conf says records $http_authorization",
        )
    group.add_argument("--nginx-conf", type=Path, metavar="PATH", help="nginx configuration file")
    fmt = group.add_mutually_exclusive_group()
    fmt.add_argument("--format", metavar="NAME", help="log_format name from nginx.conf")
    fmt.add_argument("--log-format", metavar="STRING", help="the log_format string itself")
    group.add_argument(
        "--escape",
        choices=("default", "json", "none"),
        help="escape mode for --log-format (default: default)",
    )
    start = group.add_mutually_exclusive_group()
    start.add_argument("--from-start", action="store_true", help="read logs from the beginning")
    start.add_argument("-n", "--last", type=int, metavar="N", help="begin with the last N lines")
    group.add_argument(
        "--poll", action="store_true", help="poll instead of file events (NFS, CIFS)"
    )


def add_key_options(parser: argparse.ArgumentParser) -> None:
    """Where signing keys come from, and which issuers may be discovered."""
    group = parser.add_argument_group("keys")
    group.add_argument("--jwks", type=Path, metavar="FILE", help="offline JWKS document")
    group.add_argument(
        "--oidc-metadata", type=Path, metavar="FILE", help="offline OpenID/OAuth metadata"
    )
    group.add_argument(
        "--trusted-issuer",
        action="append",
        default=[],
        metavar="ISS",
        help="only discover keys for this issuer (repeatable); also anchors it: a "
        "profile may name it",
    )
    group.add_argument(
        "--allow-private-idp",
        action="store_true",
        default=None,
        help="let issuers that are not anchored be discovered on loopback, private "
        "addresses and plain http (lab IdPs; default: public https only)",
    )
    group.add_argument(
        "--http-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="deadline for each metadata or JWKS request, connect to last byte "
        "(default 5); one issuer's discovery and keys together get twice that",
    )
    group.add_argument(
        "--oci-domain",
        metavar="URL",
        help="OCI IAM identity domain URL (https://idcs-....identity.oraclecloud.com): "
        "tokens whose iss is https://identity.oraclecloud.com/ get their keys from it",
    )


def add_expectation_options(parser: argparse.ArgumentParser) -> None:
    """What tokens are expected to carry; flags beat the config file."""
    group = parser.add_argument_group("expectations")
    group.add_argument("--expect-iss", metavar="ISS", help="expected issuer (exact match)")
    group.add_argument("--expect-aud", metavar="AUD", help="expected audience (exact match)")
    group.add_argument(
        "--expect-role", action="append", default=[], metavar="ROLE", help="required role"
    )
    group.add_argument(
        "--expect-scope", action="append", default=[], metavar="SCOPE", help="required scope"
    )
    group.add_argument("--require-upn", action="store_true", help="require the upn claim")
    group.add_argument("--allowed-skew", type=int, metavar="SECONDS", help="clock skew (max 60)")
    group.add_argument("--allowed-age", type=int, metavar="SECONDS", help="maximum age since iat")


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """How to reach the ORDS schema. Passwords never come from the command line."""
    group = parser.add_argument_group("database (password from ORACLE_PASSWORD or a prompt)")
    group.add_argument("--dsn", help="Easy Connect string, TNS alias or connect descriptor")
    group.add_argument("--user", help="database user (the REST-enabled schema)")
    group.add_argument("--config-dir", type=Path, metavar="DIR", help="directory of tnsnames.ora")
    group.add_argument(
        "--wallet-location",
        type=Path,
        metavar="DIR",
        help="wallet directory (password from ORACLE_WALLET_PASSWORD or a prompt)",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json`` and ``--show-token``."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--show-token",
        action="store_true",
        help="print full bearer tokens (they are credentials: handle the output with care)",
    )


def add_ords_config_options(parser: argparse.ArgumentParser) -> None:
    """``--ords-config DIR`` and ``--ords-pool NAME``: read ORDS's own settings."""
    group = parser.add_argument_group("ORDS settings")
    group.add_argument(
        "--ords-config",
        type=Path,
        metavar="DIR",
        help="ORDS's configuration directory (its --config): judge tokens with the "
        "settings of global/settings.xml and databases/POOL/pool.xml",
    )
    group.add_argument(
        "--ords-pool",
        metavar="NAME",
        help="the pool under databases/ whose settings apply (default: default)",
    )
