"""Setting the engine up from the config file and flags: expectations, keys, analyzer.

Priority rises from config to flags to the ORDS profile (merged in by whoever reads the
profile, with ``Expectations.merged``). Values are validated here so that a typo in the
config is one clear error line, not a confusing verdict later.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from inspector.judge.analyzer import Analyzer
from inspector.judge.clients import ClientTable
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.keys.http import DEFAULT_TIMEOUT
from inspector.keys.jwks import KeyStore
from inspector.settings import Config, ConfigError

_KNOWN = {
    "issuer",
    "audience",
    "roles",
    "scopes",
    "require_upn",
    "allowed_skew",
    "allowed_age",
    "role_claim",
    "jwk_url",
}


def _string(section: Mapping[str, Any], name: str) -> str | None:
    value = section.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"[expect] {name} must be a non-empty string")
    return value


def _strings(section: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = section.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        # Convenience: "a b" or "a,b" for a short list.
        return tuple(v for v in value.replace(",", " ").split() if v)
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ConfigError(f"[expect] {name} must be a list of strings")


def _seconds(section: Mapping[str, Any], name: str) -> int | None:
    value = section.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"[expect] {name} must be a whole number of seconds")
    return value


def expectations_from_section(section: Mapping[str, Any]) -> Expectations:
    """``Expectations`` from an ``[expect]`` table; ``ConfigError`` on bad values."""
    unknown = sorted(set(section) - _KNOWN)
    if unknown:
        raise ConfigError(
            f"[expect] unknown key {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})"
        )
    require_upn = section.get("require_upn", False)
    if not isinstance(require_upn, bool):
        raise ConfigError("[expect] require_upn must be true or false")
    return Expectations(
        issuer=_string(section, "issuer"),
        audience=_string(section, "audience"),
        roles=_strings(section, "roles"),
        scopes=_strings(section, "scopes"),
        require_upn=require_upn,
        allowed_skew=_seconds(section, "allowed_skew"),
        allowed_age=_seconds(section, "allowed_age"),
        role_claim=_string(section, "role_claim"),
        jwk_url=_string(section, "jwk_url"),
    ).with_origin("config")


def expectations_from_args(args: argparse.Namespace) -> Expectations:
    """``Expectations`` from ``add_expectation_options`` flags (absent flags set nothing)."""
    return Expectations(
        issuer=getattr(args, "expect_iss", None),
        audience=getattr(args, "expect_aud", None),
        roles=tuple(getattr(args, "expect_role", None) or ()),
        scopes=tuple(getattr(args, "expect_scope", None) or ()),
        require_upn=bool(getattr(args, "require_upn", False)),
        allowed_skew=getattr(args, "allowed_skew", None),
        allowed_age=getattr(args, "allowed_age", None),
    ).with_origin("flags")


def build_expectations(
    config: Config, args: argparse.Namespace | None = None, profile: JwtProfile | None = None
) -> Expectations:
    """Config, then flags, then the ORDS profile: each later source wins where it is set."""
    result = expectations_from_section(config.section("expect"))
    if args is not None:
        result = result.merged(expectations_from_args(args))
    if profile is not None:
        result = result.merged(Expectations.from_profile(profile))
    return result


def trusted_issuers(config: Config, args: argparse.Namespace | None) -> tuple[str, ...]:
    """Issuers whose keys may be discovered: ``--trusted-issuer``, else ``[keys]``.

    Only what the user named: the expected-issuer fallback of ``build_key_store`` is not
    a statement of trust a profile proposal may rely on.
    """
    given = getattr(args, "trusted_issuer", None) if args is not None else None
    if given:
        return tuple(given)
    raw = config.section("keys").get("trusted_issuers", [])
    if not isinstance(raw, list) or not all(isinstance(t, str) and t for t in raw):
        raise ConfigError("[keys] trusted_issuers must be a list of issuer URLs")
    return tuple(raw)


def allow_private_issuers(config: Config, args: argparse.Namespace | None) -> bool:
    """``--allow-private-idp``, else ``[keys] allow_private_issuers`` (default false)."""
    given = getattr(args, "allow_private_idp", None) if args is not None else None
    if given is not None:
        return bool(given)
    raw = config.section("keys").get("allow_private_issuers", False)
    if not isinstance(raw, bool):
        raise ConfigError("[keys] allow_private_issuers must be true or false")
    return raw


def anchored_issuers(
    config: Config, args: argparse.Namespace | None, expectations: Expectations | None = None
) -> tuple[str, ...]:
    """Issuers the user vouched for: trusted ones and the expected issuer.

    A profile may name an anchored issuer without a second confirmation; the current
    profile's issuer is added by whoever reads the profile.
    """
    anchors = list(trusted_issuers(config, args))
    if expectations is None:
        expectations = build_expectations(config, args)
    expected = expectations.issuer
    if expected and expected not in anchors:
        anchors.append(expected)
    return tuple(anchors)


def build_key_store(
    config: Config, args: argparse.Namespace | None, expectations: Expectations
) -> KeyStore:
    """A ``KeyStore`` from ``add_key_options`` flags over the ``[keys]`` config table.

    ``[keys]`` accepts ``jwks``, ``oidc_metadata`` (paths), ``trusted_issuers`` (list),
    ``http_timeout`` and ``allow_private_issuers`` (issuers nobody anchored may then be
    discovered on loopback, private addresses and plain http). Issuers in a log are
    attacker-chosen: when no trusted issuer is given but an issuer is expected, only that
    issuer's keys are discovered. Every
    command builds its keys here, so a flag or a config key means the same everywhere.
    """
    section = config.section("keys")
    known = {"jwks", "oidc_metadata", "trusted_issuers", "http_timeout", "allow_private_issuers"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"[keys] unknown key {unknown[0]!r}")

    def path(flag: str, key: str) -> Path | None:
        value = getattr(args, flag, None) if args is not None else None
        if value is not None:
            found, where = Path(value), f"--{flag.replace('_', '-')}"
        else:
            raw = section.get(key)
            if raw is None:
                return None
            if not isinstance(raw, str) or not raw:
                raise ConfigError(f"[keys] {key} must be a file path")
            found, where = Path(raw).expanduser(), f"[keys] {key}"
        # A key file the user named must exist: silently checking nothing would mislead.
        if not found.is_file():
            raise ConfigError(f"{where} {found}: no such file")
        return found

    trusted = list(trusted_issuers(config, args))
    if not trusted and expectations.issuer:
        trusted = [expectations.issuer]
    timeout = getattr(args, "http_timeout", None) if args is not None else None
    if timeout is None:
        timeout = section.get("http_timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError("[keys] http_timeout must be a positive number of seconds")
    return KeyStore(
        offline_jwks=path("jwks", "jwks"),
        offline_metadata=path("oidc_metadata", "oidc_metadata"),
        trusted_issuers=trusted,
        timeout=float(timeout),
        anchored_issuers=anchored_issuers(config, args, expectations),
        allow_private=allow_private_issuers(config, args),
    )


def key_store_factory(
    config: Config, args: argparse.Namespace | None
) -> Callable[[Expectations], KeyStore]:
    """``build_key_store`` for when the expectations are known only later.

    The doctor learns the issuer from the profile or the metadata mid-run; the config
    and flags are checked now, so a mistake in them is an error before anything runs.
    """
    build_key_store(config, args, Expectations())
    return functools.partial(build_key_store, config, args)


def build_analyzer(config: Config, args: argparse.Namespace | None = None) -> Analyzer:
    """The analysis engine as the command line and config describe it (no ORDS profile).

    The one place commands get their expectations and keys from (``analyzer.keys`` is
    the ``KeyStore``): ``scan``, ``decode``, ``watch`` and ``profile`` call it.
    """
    expectations = build_expectations(config, args)
    return Analyzer(
        build_key_store(config, args, expectations),
        expectations,
        clients=ClientTable.from_config(config.section("clients")),
    )
