"""Step 5: the ORDS JWT profile must point at the same issuer and keys as the metadata.

With a database the newest tokens (``--log``) are also judged with what the schema says:
that it has no profile at all, and its ORDS roles and privileges (role and scope checks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator

from inspector.doctor.authorization_server import AuthorizationServer, metadata_issuer
from inspector.doctor.model import DoctorOptions, Finding, Status
from inspector.doctor.probe import reach_of
from inspector.doctor.tokens_step import check_tokens
from inspector.doctor.urls import is_https
from inspector.judge.expectations import Expectations
from inspector.judge.ords_objects import JwtProfile
from inspector.keys.jwks import KeySet, parse_jwks
from inspector.keys.signature import jwk_data
from inspector.ords.schema import SchemaAuthorization, schema_expectations, unreadable_note
from parsers.ords_config import OrdsConfig
from parsers.redaction import redact_text


def _load(options: DoctorOptions) -> tuple[JwtProfile | None, str | None]:
    if options.profile is not None:
        return options.profile, None
    if options.profile_loader is None:
        return None, None
    try:
        return options.profile_loader(), None
    except Exception as exc:  # driver and settings errors alike become one finding
        return None, redact_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _schema(
    options: DoctorOptions, profile: JwtProfile | None
) -> tuple[Expectations | None, str | None]:
    """What the database says for the token checks, and the note when roles were unreadable."""
    if options.profile_loader is None:
        return None, None  # no database: the profile (if given) is all there is
    authorization: SchemaAuthorization | None = None
    note = None
    if options.authorization_loader is not None:
        try:
            authorization = options.authorization_loader()
        except Exception as exc:  # costs the role and scope checks, never the step
            note = unreadable_note(exc)
    return schema_expectations(profile, authorization), note


def check_profile(
    options: DoctorOptions, server: AuthorizationServer | None
) -> Generator[Finding, None, JwtProfile | None]:
    """Compare the profile with the metadata, then (``--log``) the newest tokens with both.

    In POOL mode (``--ords-config``) the pool's profile takes the schema's place.
    """
    if options.ords_config is not None and options.ords_config.pool_mode:
        return (yield from _check_pool(options, options.ords_config, server))
    profile, error = _load(options)
    if error is not None:
        yield Finding(
            "profile-unreadable",
            Status.FAIL,
            "the ORDS profile could not be read from the database",
            error,
            "check --dsn/--user, ORACLE_PASSWORD and that the user owns the REST-enabled schema",
        )
    elif profile is None and options.profile_loader is not None:
        yield Finding(
            "no-profile",
            Status.FAIL,
            "the schema has no JWT profile: ORDS rejects every bearer token",
            None,
            "create it: token-inspector profile apply (or ORDS_SECURITY.CREATE_JWT_PROFILE; "
            "OAUTH.CREATE_JWT_PROFILE before ORDS 24.3)",
        )
    elif profile is None:
        yield Finding(
            "profile-not-configured",
            Status.SKIP,
            "no database configured (--dsn): the ORDS profile is not compared",
        )
    elif server is None:
        yield Finding(
            "profile-not-compared",
            Status.SKIP,
            "no authorization-server metadata to compare the profile with",
            profile.issuer,
        )
    else:
        yield from _compare(profile, server, options)
    if options.logs:
        schema, note = (None, None) if error is not None else _schema(options, profile)
        if note is not None:
            yield Finding(
                "profile-roles-unreadable",
                Status.SKIP,
                note,
                None,
                "check that the user owns the REST-enabled schema (USER_ORDS_ROLES, "
                "USER_ORDS_PRIVILEGES and their _ROLES/_MODULES/_MAPPINGS views)",
            )
        yield from check_tokens(options, profile, server, schema)
    return profile


def _check_pool(
    options: DoctorOptions, config: OrdsConfig, server: AuthorizationServer | None
) -> Generator[Finding, None, JwtProfile | None]:
    """POOL mode: the schema's profile is reportedly ignored, so it is neither read nor
    missed (never ``no-profile``); the pool's ``security.jwt.profile.*`` is compared."""
    issuer, audience, jwk_url = config.issuer, config.audience, config.jwk_url
    where = config.where("security.jwt.profile.mode")
    missing = [
        name
        for name, value in (
            ("security.jwt.profile.issuer", issuer),
            ("security.jwt.profile.audience", audience),
            ("security.jwt.profile.jwk.url", jwk_url),
        )
        if not value
    ]
    if missing or issuer is None or audience is None or jwk_url is None:
        yield Finding(
            "profile-pool",
            Status.FAIL,
            f"ORDS pool {config.pool!r} is in POOL mode but its profile lacks "
            f"{', '.join(missing)}: ORDS has nothing to validate tokens with",
            where,
            "ords --config DIR config --db-pool POOL set KEY VALUE for each, then restart ORDS",
        )
        return None
    profile = JwtProfile(
        issuer=issuer, audience=audience, jwk_url=jwk_url, role_claim_name=config.role_claim_name
    )
    yield Finding(
        "profile-pool",
        Status.PASS,
        f"ORDS pool {config.pool!r} validates tokens with its pool-level JWT profile; the "
        "schema's profile is reportedly ignored in POOL mode, so it is not checked",
        where,
    )
    if server is not None:
        yield from _compare(profile, server, options)
    if options.logs:
        yield from check_tokens(options, profile, server, None)
    return profile


# An Entra v2.0 issuer: ``{origin}/{tenant}/v2.0``. The same tenant's v1.0 document sits
# at ``{origin}/{tenant}/.well-known/openid-configuration`` and names the v1 issuer
# (``https://sts.windows.net/{tenant}/`` on Entra itself).
_ENTRA_V2_ISSUER = re.compile(r"^(https?://[^/]+)/([0-9a-fA-F-]{36})/v2\.0$")


def _entra_v1_issuer(issuer: str, options: DoctorOptions) -> str | None:
    """The v1.0 issuer of the tenant whose v2.0 issuer is ``issuer``, read from Entra's
    own v1 document (not guessed from the string), or None when there is none."""
    match = _ENTRA_V2_ISSUER.match(issuer)
    if match is None:
        return None
    url = f"{match.group(1)}/{match.group(2)}/.well-known/openid-configuration"
    reach = reach_of(options)
    if reach.refusal(url, via=issuer) is not None:
        return None
    fetched = reach.client(url, options.timeout, via=issuer).get_json(url)
    found = fetched.document.get("issuer") if fetched.document is not None else None
    return found if isinstance(found, str) and found != issuer else None


def _key_material(url: str, options: DoctorOptions, via: str | None) -> frozenset[str] | str:
    """The public keys ``url`` serves (each as its JWK members that define it), or why not."""
    reach = reach_of(options)
    refusal = reach.refusal(url, via=via)
    if refusal is not None:
        return refusal
    fetched = reach.client(url, options.timeout, via=via).get_json(url)
    if fetched.document is None:
        return fetched.describe()
    parsed = parse_jwks(fetched.document, url)
    if not isinstance(parsed, KeySet):
        return parsed.reason
    # The kid names a key, the members below are the key: compare what verifies.
    members = ("kty", "kid", "n", "e", "crv", "x", "y")
    return frozenset(
        json.dumps({m: jwk_data(k.key).get(m) for m in members}, sort_keys=True)
        for k in parsed.keys
    )


def _compare(
    profile: JwtProfile, server: AuthorizationServer, options: DoctorOptions
) -> Generator[Finding]:
    issuer = metadata_issuer(server)
    v1 = (
        _entra_v1_issuer(issuer, options)
        if issuer is not None and profile.issuer != issuer
        else None
    )
    if issuer is not None and v1 is not None and profile.issuer == v1:
        yield Finding(
            "profile-issuer-entra-v1",
            Status.PASS,
            "the profile names this tenant's v1.0 issuer: it accepts v1.0 access tokens only "
            "(what Entra issues, from either endpoint, while the API's manifest leaves "
            "api.requestedAccessTokenVersion, formerly accessTokenAcceptedVersion, at null or "
            "1); v2.0 tokens will be rejected",
            f"{profile.issuer} (v2.0 metadata: {issuer})",
        )
    elif issuer is not None and profile.issuer != issuer:
        hint = (
            " (only a trailing slash differs, and ORDS compares exactly)"
            if profile.issuer.rstrip("/") == issuer.rstrip("/")
            else ""
        )
        yield Finding(
            "profile-issuer-mismatch",
            Status.FAIL,
            "the profile's issuer differs from the authorization server's: ORDS will reject "
            "tokens that server issues" + hint,
            f"{profile.issuer} vs {issuer}",
            f"re-create the profile with p_issuer => '{issuer}' (or the iss the tokens carry, "
            "e.g. v1 https://sts.windows.net/<tid>/)",
        )
    elif issuer is not None:
        yield Finding(
            "profile-issuer-matches", Status.PASS, "profile issuer matches the metadata", issuer
        )
    if not is_https(profile.jwk_url):
        yield Finding(
            "jwk-url-not-https",
            Status.WARN if options.allow_http else Status.FAIL,
            "the profile's JWK URL is not https: ORDS only fetches keys over https"
            + (" (allowed by --allow-http)" if options.allow_http else ""),
            profile.jwk_url,
            "use the https jwks_uri from the IdP metadata",
        )
    if server.jwks_uri is not None and profile.jwk_url != server.jwks_uri:
        yield _compare_keys(profile.jwk_url, server.jwks_uri, issuer, options)
    elif server.jwks_uri is not None:
        yield Finding(
            "profile-jwk-url-matches",
            Status.PASS,
            "profile JWK URL is the metadata's",
            server.jwks_uri,
        )


def _compare_keys(
    jwk_url: str, jwks_uri: str, issuer: str | None, options: DoctorOptions
) -> Finding:
    """Two different URLs may serve the same keys (Entra's v1 and v2 key URLs do): what
    counts for ORDS is whether the keys behind ``p_jwk_url`` verify the tokens."""
    wanted = _key_material(jwks_uri, options, issuer)
    served = _key_material(jwk_url, options, issuer)
    observed = f"{jwk_url} vs {jwks_uri}"
    if isinstance(served, frozenset) and isinstance(wanted, frozenset) and wanted <= served:
        return Finding(
            "profile-jwk-url-same-keys",
            Status.PASS,
            "the profile's JWK URL is not the metadata's jwks_uri, but it serves every key "
            "the metadata's does",
            observed,
        )
    if isinstance(served, frozenset) and isinstance(wanted, frozenset):
        why = f"{len(wanted - served)} of the metadata's {len(wanted)} keys are not served there"
    else:
        why = f"keys not compared: {served if isinstance(served, str) else wanted}"
    return Finding(
        "profile-jwk-url-mismatch",
        Status.FAIL,
        "the profile's JWK URL is not the metadata's jwks_uri and does not serve its keys "
        f"(kid not found for tokens signed with them; {redact_text(why)})",
        observed,
        f"re-create the profile with p_jwk_url => '{jwks_uri}'",
    )
