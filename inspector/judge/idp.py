"""Which identity provider issued a token, and who the token is about.

Derived from the unverified claims only, for display and for choosing the right
explanation (an Entra v1 issuer, an Auth0 trailing slash): never for trust decisions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from inspector.keys.discovery import OCI_IAM_DEFAULT_ISSUER

ENTRA_V1_ISSUER = re.compile(r"https://sts\.windows\.net/([0-9a-fA-F-]{36})/")
ENTRA_V2_ISSUER = re.compile(r"https://login\.microsoftonline\.com/([0-9a-fA-F-]{36})/v2\.0")
# Microsoft Graph's application id and resource URI: tokens for Graph cannot be verified
# by anyone but Graph.
GRAPH_AUDIENCES = frozenset(
    {
        "00000003-0000-0000-c000-000000000000",
        "https://graph.microsoft.com",
        "https://graph.microsoft.com/",
        "https://canary.graph.microsoft.com",
    }
)

# "entra": an Entra token whose version nothing settles (no ver, no v1/v2 issuer form,
# no version-specific claims): never assumed to be v2.
IDP_FAMILIES = (
    "entra-v1",
    "entra-v2",
    "entra",
    "auth0",
    "okta",
    "oci-iam",
    "keycloak",
    "generic",
)

# What an issuer URL alone can tell (the token version needs the token).
ISSUER_FAMILIES = ("entra", "auth0", "okta", "oci-iam", "keycloak", "generic")

# Claims that name the human, best first: what an admin recognises in a list.
SUBJECT_CLAIMS = ("upn", "preferred_username", "unique_name", "email", "sub")

_ENTRA_HOSTS = (".microsoftonline.com", ".windows.net", ".microsoftonline.us")


def idp_family(claims: Mapping[str, Any]) -> str:
    """One of ``IDP_FAMILIES``, from ``iss``/``ver``/``tid`` (``generic`` when unsure)."""
    iss = claims.get("iss")
    if not isinstance(iss, str):
        iss = ""
    host, path = _host_and_path(iss)
    if not iss.startswith(("https://", "http://")):
        host = ""
    entra = (
        ENTRA_V1_ISSUER.fullmatch(iss) is not None
        or ENTRA_V2_ISSUER.fullmatch(iss) is not None
        or host == "login.microsoftonline.com"
        or host.endswith(_ENTRA_HOSTS)
        or ("tid" in claims and claims.get("ver") in ("1.0", "2.0"))
    )
    if entra:
        return entra_version(claims)
    if host.endswith(".auth0.com"):
        return "auth0"
    if host.endswith((".okta.com", ".oktapreview.com", ".okta-emea.com", ".okta-gov.com")):
        return "okta"
    if iss == OCI_IAM_DEFAULT_ISSUER or (
        host.startswith("idcs-") and host.endswith(".identity.oraclecloud.com")
    ):
        return "oci-iam"
    if "/realms/" in path:
        return "keycloak"
    return "generic"


def issuer_family(issuer: str) -> str:
    """The IdP family of an issuer URL alone, Entra's versions folded into ``entra``.

    For planning from a configured issuer before any token was seen (which admin steps
    to print): one of ``ISSUER_FAMILIES``.
    """
    family = idp_family({"iss": issuer})
    return "entra" if family.startswith("entra") else family


def entra_version(claims: Mapping[str, Any]) -> str:
    """``entra-v1``, ``entra-v2`` or ``entra`` (unsettled) for an Entra token.

    The issuer form (sts.windows.net vs login.microsoftonline.com/.../v2.0), ``ver`` and
    the claim set (v1: ``appid``; v2: ``azp``) are weighed together; a majority decides
    and a token that says nothing is not assumed to be v2.
    """
    iss = claims.get("iss")
    votes: list[str] = []
    if isinstance(iss, str):
        if ENTRA_V1_ISSUER.fullmatch(iss):
            # The issuer form is what ORDS compares: it counts twice.
            votes += ["entra-v1", "entra-v1"]
        elif ENTRA_V2_ISSUER.fullmatch(iss):
            votes += ["entra-v2", "entra-v2"]
    ver = claims.get("ver")
    if ver == "1.0":
        votes.append("entra-v1")
    elif ver == "2.0":
        votes.append("entra-v2")
    if "appid" in claims and "azp" not in claims:
        votes.append("entra-v1")
    elif "azp" in claims and "appid" not in claims:
        votes.append("entra-v2")
    v1, v2 = votes.count("entra-v1"), votes.count("entra-v2")
    if v1 > v2:
        return "entra-v1"
    if v2 > v1:
        return "entra-v2"
    return "entra"


def _host_and_path(url: str) -> tuple[str, str]:
    # urlsplit raises ValueError on "http://[::1" or a bad port; an issuer is
    # attacker-controlled, so such a one has no host rather than crashing the scan.
    try:
        parts = urlsplit(url)
        return parts.hostname or "", parts.path
    except ValueError:
        return "", ""


def is_graph_audience(aud: Any) -> bool:
    """True when ``aud`` (string or array) names Microsoft Graph."""
    values = aud if isinstance(aud, list) else [aud]
    return any(isinstance(v, str) and v.lower() in GRAPH_AUDIENCES for v in values)


def subject_of(claims: Mapping[str, Any]) -> str | None:
    """The name a human would recognise: upn, preferred_username, unique_name, email, sub."""
    for name in SUBJECT_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def entra_tenant(claims: Mapping[str, Any]) -> str | None:
    """The Entra tenant id from ``tid`` or the issuer, when the token is an Entra token."""
    tid = claims.get("tid")
    if isinstance(tid, str) and tid:
        return tid
    iss = claims.get("iss")
    if isinstance(iss, str):
        for pattern in (ENTRA_V1_ISSUER, ENTRA_V2_ISSUER):
            match = pattern.fullmatch(iss)
            if match:
                return match.group(1)
    return None
