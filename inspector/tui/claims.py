"""Short explanations of JWT header fields and claims, Entra ID's especially.

Shown next to each claim in the detail pane so an admin who has never read Microsoft's
token reference can tell ``appid`` from ``aud`` and ``oid`` from ``sub``.
"""

from __future__ import annotations

HEADER_FIELDS: dict[str, str] = {
    "alg": "signing algorithm; ORDS accepts RS256, RS384 and RS512 only",
    "kid": "id of the signing key in the issuer's JWKS",
    "x5t": "thumbprint of the signing certificate (Entra v1 tokens)",
    "typ": "token type, usually JWT",
    "nonce": "only on Microsoft Graph tokens: nobody but Graph can verify them",
    "cty": "content type (nested token)",
    "enc": "encryption algorithm: this is an encrypted token (JWE)",
}

CLAIMS: dict[str, str] = {
    "iss": "issuer; must equal the ORDS profile's p_issuer exactly (trailing slash counts)",
    "aud": "audience; must equal p_audience (one string: an array is reported to fail)",
    "sub": "subject; ORDS uses it as the user name (pairwise per app in Entra)",
    "exp": "expiry time",
    "nbf": "not valid before this time",
    "iat": "issued at; checked against p_allowed_age",
    "ver": "Entra token version: 1.0 or 2.0 (set by the API app's accessTokenAcceptedVersion)",
    "tid": "Entra tenant id",
    "oid": "Entra object id of the user: stable across apps",
    "appid": "Entra v1: client id of the app that asked for the token",
    "azp": "Entra v2: client id of the app that asked for the token",
    "appidacr": "Entra v1: how the client authenticated (0 public, 1 secret, 2 certificate)",
    "azpacr": "Entra v2: how the client authenticated (0 public, 1 secret, 2 certificate)",
    "upn": "user principal name (v1; v2 only as an optional claim)",
    "unique_name": "Entra v1: display user name, not stable",
    "preferred_username": "Entra v2: user name for display, not stable",
    "name": "user's display name",
    "email": "e-mail address",
    "scp": "delegated scopes, space separated; scope-based profiles need an ORDS privilege name",
    "scope": "scopes, space separated; scope-based profiles need an ORDS privilege name",
    "roles": "app roles; role-based profiles (p_role_claim_name '/roles') need an ORDS role",
    "groups": "group object ids; ORDS does not use them as roles",
    "wids": "Entra directory role template ids",
    "aio": "Entra internal claim, ignore",
    "rh": "Entra internal claim, ignore",
    "uti": "Entra token identifier (internal)",
    "idp": "identity provider that authenticated the user",
    "amr": "authentication methods used",
    "acr": "authentication context class",
    "sid": "session id",
    "jti": "unique token id",
    "client_id": "client id of the app that asked for the token",
    "auth_time": "time the user authenticated",
    "nonce": "replay protection value from the sign-in request",
}

TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")


def explain_header(name: str) -> str:
    """Explanation of a JOSE header field, or "" when unknown."""
    return HEADER_FIELDS.get(name, "")


def explain_claim(name: str) -> str:
    """Explanation of a claim, or "" when unknown (``xms_*`` are Entra extension claims)."""
    if name in CLAIMS:
        return CLAIMS[name]
    if name.startswith("xms_"):
        return "Entra extension claim"
    return ""
