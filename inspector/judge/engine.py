"""Setting the engine up from the typed settings: expectations, keys, analyzer.

Priority rises from the config files to flags (already merged in ``Settings``, see
``inspector.cli.configure``) to the ORDS profile (merged in by whoever reads the profile,
with ``Expectations.merged``). Values were validated when the settings were built, so a
typo in the config is one clear error line, not a confusing verdict later.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from inspector.judge.analyzer import Analyzer
from inspector.judge.clients import ClientTable
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.judge.ords_settings import load_ords_config
from inspector.keys.store import KeyStore
from inspector.settings import ExpectSettings, KeySettings, OrdsSettings, Settings
from parsers.ords_config import OrdsConfig

# The values whose origin a verdict quotes ("expected by the config").
_TRACED = ("issuer", "audience", "roles", "scopes", "allowed_skew", "allowed_age")


def expectations_from(expect: ExpectSettings) -> Expectations:
    """``Expectations`` from ``[expect]`` and the ``--expect-*`` flags, origins kept."""
    return Expectations(
        issuer=expect.issuer,
        audience=expect.audience,
        roles=expect.roles,
        scopes=expect.scopes,
        require_upn=expect.require_upn,
        allowed_skew=expect.allowed_skew,
        allowed_age=expect.allowed_age,
        role_claim=expect.role_claim,
        jwk_url=expect.jwk_url,
        origin={k: v for k, v in expect.origin.items() if k in _TRACED},
    )


def build_expectations(expect: ExpectSettings, profile: JwtProfile | None = None) -> Expectations:
    """Config and flags, then the ORDS profile: each later source wins where it is set."""
    result = expectations_from(expect)
    if profile is not None:
        result = result.merged(Expectations.from_profile(profile))
    return result


def trusted_issuers(keys: KeySettings) -> tuple[str, ...]:
    """Issuers whose keys may be discovered: ``--trusted-issuer``, else ``[keys]``.

    Only what the user named: the expected-issuer fallback of ``build_key_store`` is not
    a statement of trust a profile proposal may rely on.
    """
    return keys.trusted_issuers


def anchored_issuers(
    settings: Settings, expectations: Expectations | None = None
) -> tuple[str, ...]:
    """Issuers the user vouched for: trusted ones and the expected issuer.

    A profile may name an anchored issuer without a second confirmation; the current
    profile's issuer is added by whoever reads the profile.
    """
    anchors = list(settings.keys.trusted_issuers)
    if expectations is None:
        expectations = build_expectations(settings.expect)
    expected = expectations.issuer
    if expected and expected not in anchors:
        anchors.append(expected)
    return tuple(anchors)


def build_key_store(keys: KeySettings, expectations: Expectations) -> KeyStore:
    """A ``KeyStore`` from the key settings (flags over ``[keys]``).

    Issuers in a log are attacker-chosen: when no trusted issuer is given but an issuer is
    expected, only that issuer's keys are discovered. Every command builds its keys here,
    so a flag or a config key means the same everywhere.
    """
    trusted = list(keys.trusted_issuers)
    if not trusted and expectations.issuer:
        trusted = [expectations.issuer]
    anchors = list(keys.trusted_issuers)
    if expectations.issuer and expectations.issuer not in anchors:
        anchors.append(expectations.issuer)
    return KeyStore(
        offline_jwks=keys.jwks,
        offline_metadata=keys.oidc_metadata,
        trusted_issuers=trusted,
        timeout=keys.http_timeout,
        anchored_issuers=tuple(anchors),
        allow_private=keys.allow_private_issuers,
        oci_domain=keys.oci_domain,
    )


def key_store_factory(keys: KeySettings) -> Callable[[Expectations], KeyStore]:
    """``build_key_store`` for when the expectations are known only later (the doctor
    learns the issuer from the profile or the metadata mid-run)."""
    return functools.partial(build_key_store, keys)


def ords_config_from(ords: OrdsSettings) -> OrdsConfig | None:
    """ORDS's own settings of the configured pool, when ``[ords] config_dir`` or
    ``--ords-config`` names the directory (``ConfigError`` when it cannot be read)."""
    if ords.config_dir is None:
        return None
    return load_ords_config(ords.config_dir, ords.pool)


def build_analyzer(settings: Settings) -> Analyzer:
    """The analysis engine as the settings describe it (no ORDS profile; ORDS's own
    settings when ``settings.ords.config_dir`` names them).

    The one place commands get their expectations and keys from (``analyzer.keys`` is
    the ``KeyStore``): ``scan``, ``decode``, ``watch`` and ``profile`` call it.
    """
    expectations = build_expectations(settings.expect)
    ords = ords_config_from(settings.ords)
    if ords is not None:
        expectations = expectations.with_ords_config(ords)
    return Analyzer(
        build_key_store(settings.keys, expectations),
        expectations,
        clients=ClientTable.from_settings(settings.clients),
    )
