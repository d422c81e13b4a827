"""Each IdP family's admin steps, and the az CLI script for Entra ID.

The records and the entry point are in ``idp_checklist``; this module holds the facts per
family (domain.md sections 1, 4 and 6, the rules' fix texts) and the script builder.
"""

from __future__ import annotations

import json
import shlex
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_SCOPE = "mcp:connect"
# Each connector's OAuth redirect URIs (domain.md section 1).
CLIENT_REDIRECTS: dict[str, tuple[str, ...]] = {
    "chatgpt": ("https://chatgpt.com/connector_platform_oauth_redirect",),
    "claude": (
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
    ),
}
CLIENT_LABELS = {"chatgpt": "ChatGPT", "claude": "Claude"}
# The user or group the script assigns the app role to: the admin fills it in; while it
# keeps this placeholder the script skips the assignment and says so.
PRINCIPAL_PLACEHOLDER = "<object id of the user or group to assign>"
ROLE_POINTER = "/roles"
GRAPH = "https://graph.microsoft.com/v1.0"


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One thing the IdP admin does.

    ``title`` is one imperative line, ``detail`` says why, ``values`` are the exact
    field -> value pairs to enter (a field may repeat, e.g. two redirect URIs).
    ``confirmed`` is False when no source we have confirms the behaviour or the UI.
    """

    title: str
    detail: str
    values: tuple[tuple[str, str], ...]
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    """The normalised inputs every family's steps are built from."""

    mcp_url: str
    issuer: str
    scope_name: str
    advertised: tuple[str, ...]
    role: str | None
    app_id: str | None
    tenant: str | None
    clients: tuple[str, ...]
    # The aud the plan's ORDS profile is created with (the connector token's), when known.
    audience: str | None = None

    @property
    def aud(self) -> str:
        """The audience every value names: the planned one, else the MCP URL (the rule)."""
        return self.audience or self.mcp_url

    @property
    def aud_words(self) -> str:
        """``the MCP URL``, or the planned audience when it is something else."""
        return "the MCP URL" if self.aud == self.mcp_url else self.aud

    @property
    def host(self) -> str:
        """The MCP URL's host, for display names."""
        try:
            return urlsplit(self.mcp_url).hostname or self.mcp_url
        except ValueError:
            return self.mcp_url

    def stable_id(self, kind: str, name: str) -> str:
        """A GUID for a new scope or app role, the same on every run for this MCP URL."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.mcp_url}#{kind}:{name}"))


Steps = tuple[list[ChecklistItem], list[str]]


def _slash_note(url: str) -> str:
    if url.endswith("/"):
        return "The MCP URL ends with '/', and so must this value."
    return "The MCP URL has no trailing '/', and neither may this value."


def _aud_note(plan: Plan) -> str:
    if plan.aud == plan.mcp_url:
        return _slash_note(plan.mcp_url)
    return "It is the aud of the tokens seen, which the planned ORDS profile expects."


def _audience_caveat(plan: Plan) -> list[str]:
    """Outside Entra ID: a planned audience that is not the MCP URL, said once."""
    if plan.aud == plan.mcp_url:
        return []
    return [
        f"The tokens seen carry aud {plan.aud}, not the MCP URL: the planned ORDS profile "
        "uses it (p_audience) so ORDS accepts them. To follow MCP's rule (aud = the MCP URL "
        "clients send as resource), change the audience at the IdP, then run setup again to "
        "re-create the profile."
    ]


def _redirect_values(plan: Plan, field: str) -> tuple[tuple[str, str], ...]:
    return tuple((field, uri) for client in plan.clients for uri in CLIENT_REDIRECTS[client])


def _scope_based_caveat(plan: Plan, claim: str) -> str:
    return (
        f"No ORDS role given: a scope-based profile treats each '{claim}' value as an ORDS "
        f"privilege name, so the privilege protecting the MCP module must be named exactly "
        f"'{plan.scope_name}' (case included)."
    )


# --- Microsoft Entra ID ---------------------------------------------------------------------


def entra(plan: Plan) -> Steps:
    """App registration steps: App ID URI, scope, token version, role, clients, consent."""
    url, name = plan.mcp_url, plan.scope_name
    full_scope = f"{url}/{name}"
    tid = plan.tenant or "<tenant id>"
    v2_issuer = f"https://login.microsoftonline.com/{tid}/v2.0"
    app = plan.app_id or "<Application (client) ID of the API app>"
    items = [
        ChecklistItem(
            "Set the API app's Application ID URI to the MCP URL",
            "MCP clients send resource=<MCP URL> (RFC 8707) and Entra refuses a scope whose "
            "resource differs (AADSTS9010010), so the App ID URI must be the MCP URL exactly. "
            f"{_slash_note(url)} An https App ID URI must be on a verified domain of the "
            "tenant (Entra ID > Custom domain names).",
            (
                ("Blade", "App registrations > (API app) > Expose an API"),
                ("Application ID URI", url),
            ),
        ),
        ChecklistItem(
            f"Expose the delegated scope {name}",
            "Clients request the fully-qualified scope; a bare one resolves to Microsoft "
            "Graph (AADSTS650053, Graph tokens ORDS cannot verify). The token's scp claim "
            f"carries the name only ('{name}').",
            (
                ("Blade", "Expose an API > Add a scope"),
                ("Scope name", name),
                ("Full scope (requested by clients)", full_scope),
                ("Who can consent", "Admins and users"),
                ("State", "Enabled"),
            ),
        ),
        ChecklistItem(
            "Make the API issue v2.0 access tokens",
            "With api.requestedAccessTokenVersion null or 1 (old manifest: "
            "accessTokenAcceptedVersion) Entra issues v1 tokens whatever endpoint the client "
            "used. After setting 2 the tokens' iss is the v2 issuer and aud the API's app id: "
            "the ORDS profile must be created with exactly these values.",
            (
                ("Manifest: api.requestedAccessTokenVersion", "2"),
                ("ORDS profile p_issuer", v2_issuer),
                ("ORDS profile p_audience", app),
                (
                    "ORDS profile p_jwk_url",
                    f"https://login.microsoftonline.com/{tid}/discovery/v2.0/keys",
                ),
            ),
        ),
    ]
    if plan.role:
        items += [
            ChecklistItem(
                f"Create the app role {plan.role}",
                "A role-based ORDS profile reads the roles claim; Entra puts an app role's "
                "value there, compared with the ORDS role name exactly (case counts).",
                (
                    ("Blade", "App registrations > (API app) > App roles > Create app role"),
                    ("Display name", plan.role),
                    ("Allowed member types", "Users/Groups"),
                    ("Value", plan.role),
                    ("Enabled", "yes"),
                    ("ORDS profile p_role_claim_name", ROLE_POINTER),
                ),
            ),
            ChecklistItem(
                f"Assign the app role {plan.role} to the users or groups who may connect",
                "Without an assignment the token has no roles claim (groups GUIDs are not "
                "roles) and ORDS answers 401.",
                (
                    ("Blade", "Enterprise applications > (API app) > Users and groups > Add"),
                    ("Role", plan.role),
                ),
            ),
        ]
    for client in plan.clients:
        label = CLIENT_LABELS[client]
        items.append(
            ChecklistItem(
                f"Register a client app for the {label} connector, with a client secret",
                "Entra has no dynamic client registration: the connector needs a "
                "pre-registered client ID and secret (enter both in its OAuth settings).",
                (
                    ("Blade", "App registrations > New registration"),
                    ("Name", f"{label} connector ({plan.host})"),
                    ("Supported account types", "Accounts in this organizational directory only"),
                    *(("Redirect URI (Web)", uri) for uri in CLIENT_REDIRECTS[client]),
                    (
                        "Client secret",
                        "Certificates & secrets > New client secret (copy the Value)",
                    ),
                ),
            )
        )
    if plan.clients:
        items.append(
            ChecklistItem(
                "Authorize the connector clients for the scope and grant admin consent",
                "Where user consent is restricted, a client that sends prompt=consent fails "
                "with AADSTS90095 until an admin consents; AADSTS650053 on reconnect means the "
                f"client asked for the bare '{name}' instead of {full_scope}.",
                (
                    ("Blade", "Expose an API > Add a client application"),
                    *(("Client ID", f"<{CLIENT_LABELS[c]} client ID>") for c in plan.clients),
                    ("Authorized scopes", full_scope),
                    (
                        "Then",
                        "client app > API permissions > Add > My APIs > (API app) > "
                        f"{name}, then Grant admin consent",
                    ),
                ),
            )
        )
    items.append(
        ChecklistItem(
            "Only if Oracle Database itself maps Entra users: add the optional claim upn",
            "ORDS identifies the user by sub and ignores upn; Oracle Database's own Entra "
            "login (IDENTIFIED GLOBALLY AS 'AZURE_USER=...') needs upn in v2 tokens.",
            (
                ("Blade", "App registrations > (API app) > Token configuration"),
                ("Add optional claim", "Access > upn"),
            ),
        )
    )
    caveats = [
        "The script merges its scope, app role and pre-authorized clients into the lists the "
        "app already has: a Graph PATCH replaces a whole list and refuses to drop an enabled "
        "scope or role, so it reads them first. An existing scope or role with the same value "
        "is kept as it is (enable it in the portal if it is disabled).",
        "az ad app credential reset runs with --append: without it the command deletes every "
        "other secret of the app. The secret is printed once: put it into the connector.",
    ]
    if url.endswith("/"):
        caveats.append(
            f"Unconfirmed: how Entra joins an App ID URI that ends with '/' to the scope name. "
            f"This plan uses {full_scope} (as doctor does); compare it with the full scope "
            "Expose an API shows and advertise exactly that one."
        )
    if not plan.app_id:
        caveats.append(
            "No API app id given: the script creates a new API app registration; give the "
            "existing app's Application (client) ID to configure that one instead."
        )
    if plan.tenant is None:
        caveats.append(
            "The issuer does not name the tenant: replace <tenant id> with the Directory "
            "(tenant) ID."
        )
    if plan.issuer.startswith("https://sts.windows.net/"):
        caveats.append(
            f"The issuer given ({plan.issuer}) is the v1 issuer: after step 3 tokens carry "
            f"{v2_issuer}, and the ORDS profile must be re-created with it."
        )
    if not url.startswith("https://"):
        caveats.append(
            "The MCP URL is not https: Entra needs an https App ID URI on a verified domain, "
            "and connectors need https anyway."
        )
    stray = [s for s in plan.advertised if s != full_scope]
    if stray:
        caveats.append(
            f"scopes_supported advertises {', '.join(stray)}: Entra refuses a scope whose "
            f"resource is not the MCP URL (AADSTS9010010); advertise {full_scope}."
        )
    if not plan.role:
        caveats.append(_scope_based_caveat(plan, "scp"))
    return items, caveats


# jq programs of the script: constants, values reach them only through --arg/--argjson.
JQ_OTHER_URIS = "(.identifierUris // [])[] | select(. != $uri)"
JQ_API = (
    "{api: ((.api // {}) + {requestedAccessTokenVersion: 2, oauth2PermissionScopes: "
    "((.api.oauth2PermissionScopes // []) | if any(.[]; .value == $scope.value) "
    "then . else . + [$scope] end)})}"
)
JQ_SCOPE_ID = "first(.api.oauth2PermissionScopes[] | select(.value == $v) | .id)"
JQ_ROLES = (
    "{appRoles: ((.appRoles // []) | if any(.[]; .value == $role.value) "
    "then . else . + [$role] end)}"
)
JQ_ROLE_ID = "first(.appRoles[] | select(.value == $v) | .id)"
JQ_PREAUTH = (
    "{api: ((.api // {}) + {preAuthorizedApplications: "
    "([(.api.preAuthorizedApplications // [])[] | select(.appId != $app)] "
    "+ [{appId: $app, delegatedPermissionIds: [$scope]}])})}"
)
JQ_ASSIGNMENT = "{principalId: $p, resourceId: $r, appRoleId: $a}"


def entra_commands(plan: Plan) -> tuple[str, ...]:
    """The az script: one command per entry, values only inside single quotes.

    The first entries set the shell variables (every value through ``shlex.quote``,
    JSON through ``json.dumps``); later commands use them in double quotes only.
    """
    q = shlex.quote
    scope = {
        "adminConsentDescription": "Lets the MCP connector call the ORDS MCP server as the "
        "signed-in user.",
        "adminConsentDisplayName": "Connect to the MCP server",
        "id": plan.stable_id("scope", plan.scope_name),
        "isEnabled": True,
        "type": "User",
        "userConsentDescription": "Lets the MCP connector call the MCP server as you.",
        "userConsentDisplayName": "Connect to the MCP server",
        "value": plan.scope_name,
    }
    cmds = [
        "set -euo pipefail",
        f"MCP_URL={q(plan.mcp_url)}",
        f"SCOPE_NAME={q(plan.scope_name)}",
        f"SCOPE_JSON={_json_word(scope)}",
    ]
    if plan.role:
        role = {
            "allowedMemberTypes": ["User"],
            "description": "Users who may call the ORDS MCP server.",
            "displayName": plan.role,
            "id": plan.stable_id("role", plan.role),
            "isEnabled": True,
            "value": plan.role,
        }
        cmds += [
            f"ROLE_NAME={q(plan.role)}",
            f"ROLE_JSON={_json_word(role)}",
            f"PRINCIPAL_ID={q(PRINCIPAL_PLACEHOLDER)}",
        ]
    if plan.app_id:
        cmds.append(f"API_APP_ID={q(plan.app_id)}")
    else:
        cmds.append(
            f"API_APP_ID=$(az ad app create --display-name {q(f'ORDS MCP API ({plan.host})')} "
            "--sign-in-audience AzureADMyOrg --query appId -o tsv)"
        )
    show = 'az ad app show --id "$API_APP_ID" -o json'
    patch = 'az rest --method PATCH --uri "$APP_URI" --headers Content-Type=application/json'
    cmds += [
        'API_OBJECT_ID=$(az ad app show --id "$API_APP_ID" --query id -o tsv)',
        f'APP_URI="{GRAPH}/applications/$API_OBJECT_ID"',
        # 1. App ID URI = MCP URL, keeping the other identifier URIs the app has.
        f'mapfile -t OTHER_URIS < <({show} | jq -r --arg uri "$MCP_URL" {q(JQ_OTHER_URIS)})',
        'az ad app update --id "$API_APP_ID" --identifier-uris "$MCP_URL" "${OTHER_URIS[@]}"',
        # 2-3. The scope (merged into the existing list) and v2 tokens.
        f'API_BODY=$({show} | jq -c --argjson scope "$SCOPE_JSON" {q(JQ_API)})',
        f'{patch} --body "$API_BODY"',
        f'SCOPE_ID=$({show} | jq -r --arg v "$SCOPE_NAME" {q(JQ_SCOPE_ID)})',
        'API_SP_ID=$(az ad sp show --id "$API_APP_ID" --query id -o tsv 2>/dev/null '
        '|| az ad sp create --id "$API_APP_ID" --query id -o tsv)',
    ]
    if plan.role:
        cmds += [
            f'ROLES_BODY=$({show} | jq -c --argjson role "$ROLE_JSON" {q(JQ_ROLES)})',
            f'{patch} --body "$ROLES_BODY"',
            f'ROLE_ID=$({show} | jq -r --arg v "$ROLE_NAME" {q(JQ_ROLE_ID)})',
            'if [[ "$PRINCIPAL_ID" == "<"* ]]; then echo "PRINCIPAL_ID not set: assign the '
            'app role in Enterprise applications > Users and groups" >&2; else az rest '
            f'--method POST --uri "{GRAPH}/servicePrincipals/$API_SP_ID/appRoleAssignedTo" '
            "--headers Content-Type=application/json --body "
            f'"$(jq -cn --arg p "$PRINCIPAL_ID" --arg r "$API_SP_ID" --arg a "$ROLE_ID" '
            f'{q(JQ_ASSIGNMENT)})"; fi',
        ]
    for client in plan.clients:
        label = CLIENT_LABELS[client]
        var = f"{client.upper()}_APP_ID"
        redirects = " ".join(q(uri) for uri in CLIENT_REDIRECTS[client])
        display = q(f"{label} connector ({plan.host})")
        cmds += [
            f"{var}=$(az ad app create --display-name {display} --sign-in-audience "
            f"AzureADMyOrg --web-redirect-uris {redirects} --query appId -o tsv)",
            f'az ad sp create --id "${var}" -o none',
            f'PREAUTH_BODY=$({show} | jq -c --arg app "${var}" --arg scope "$SCOPE_ID" '
            f"{q(JQ_PREAUTH)})",
            f'{patch} --body "$PREAUTH_BODY"',
            f'az ad app permission add --id "${var}" --api "$API_APP_ID" '
            '--api-permissions "$SCOPE_ID=Scope"',
            f'az ad app permission grant --id "${var}" --api "$API_APP_ID" --scope "$SCOPE_NAME"',
            f'echo "{label} client ID: ${var}"',
            f'echo "{label} client secret (shown once):"',
            f'az ad app credential reset --id "${var}" --append --display-name '
            f"{q('MCP connector')} --query password -o tsv",
        ]
    return tuple(cmds)


def _json_word(value: object) -> str:
    # ensure_ascii keeps the document free of raw control characters; quote makes it one
    # shell word whatever the values hold.
    return shlex.quote(json.dumps(value, sort_keys=True, ensure_ascii=True))


# --- Okta, Auth0, Keycloak, OCI IAM, anything else -------------------------------------------


def okta(plan: Plan) -> Steps:
    """Custom authorization server with the MCP URL as audience, scope, roles claim."""
    split = urlsplit(plan.issuer) if plan.issuer.startswith("https://") else None
    org = f"https://{split.hostname}" if split and split.hostname else "https://{org}.okta.com"
    custom = "/oauth2/" in plan.issuer
    issuer = plan.issuer if custom else f"{org}/oauth2/default"
    items = [
        ChecklistItem(
            "Use a custom authorization server, not the org one",
            "The org authorization server (issuer without /oauth2/) issues tokens for Okta's "
            "own APIs only; your API needs a custom one ('default' works).",
            (
                ("Console", "Security > API > Authorization Servers"),
                ("Issuer (ORDS profile p_issuer)", issuer),
            ),
        ),
        ChecklistItem(
            f"Set the authorization server's audience to {plan.aud_words}",
            f"ORDS compares aud with p_audience exactly. {_aud_note(plan)}",
            (("Audience", plan.aud), ("ORDS profile p_audience", plan.aud)),
        ),
        ChecklistItem(
            f"Add the scope {plan.scope_name}",
            "The connector requests it; it is what scopes_supported advertises.",
            (("Scopes > Add Scope: Name", plan.scope_name),),
        ),
        ChecklistItem(
            "Add an access policy and rule that let the connector clients get tokens",
            "A custom authorization server issues no token without a policy that names the "
            "client; new orgs' 'default' server may have none.",
            (
                ("Access Policies > Add Policy: Assign to", "the connector clients"),
                ("Rule: Grant type", "Authorization Code"),
                ("Rule: Scopes", plan.scope_name),
            ),
        ),
    ]
    if plan.role:
        items.append(
            ChecklistItem(
                f"Emit the Okta group {plan.role} as a roles claim in access tokens",
                "A role-based ORDS profile reads an array of role names; a groups claim on a "
                "custom authorization server can be added to access tokens. Name the group "
                "exactly as the ORDS role (case counts) and put the users in it.",
                (
                    ("Claims > Add Claim: Name", "roles"),
                    ("Include in token type", "Access Token"),
                    ("Value type", "Groups"),
                    ("Filter", f"Equals {plan.role}"),
                    ("ORDS profile p_role_claim_name", ROLE_POINTER),
                ),
            )
        )
    items += _web_clients(plan, "Applications > Create App Integration > OIDC > Web", True)
    caveats = (
        []
        if custom
        else [
            f"The issuer given ({plan.issuer}) is Okta's org authorization server: tokens for "
            "your API come from a custom one, and the ORDS profile must use its issuer."
        ]
    )
    caveats += _audience_caveat(plan)
    if not plan.role:
        caveats.append(_scope_based_caveat(plan, "scp"))
    return items, caveats


def auth0(plan: Plan) -> Steps:
    """An API whose identifier is the MCP URL, RS256, permissions, a default audience."""
    items = [
        ChecklistItem(
            f"Create an API whose Identifier is {plan.aud_words}, signed with RS256",
            "The Identifier becomes the token's aud; ORDS verifies RS256/384/512 only and the "
            f"signing algorithm is the API's setting, not the application's. "
            f"{_aud_note(plan)}",
            (
                ("Dashboard", "Applications > APIs > Create API"),
                ("Identifier", plan.aud),
                ("Signing Algorithm", "RS256"),
                ("ORDS profile p_audience", plan.aud),
                ("ORDS profile p_issuer", plan.issuer),
            ),
        ),
        ChecklistItem(
            f"Set the tenant's Default Audience to {plan.aud_words}",
            "A request without 'audience' otherwise gets an opaque token ORDS cannot read. "
            "It applies to every application of the tenant.",
            (("Settings > API Authorization Settings > Default Audience", plan.aud),),
        ),
        ChecklistItem(
            f"Add the permission {plan.scope_name} to the API",
            "Permissions are the API's scopes: the connector requests this one.",
            (("APIs > (API) > Permissions: Permission", plan.scope_name),),
        ),
    ]
    if plan.role:
        items.append(
            ChecklistItem(
                f"Put {plan.role} into the token's permissions claim (RBAC)",
                "With RBAC and 'Add Permissions in the Access Token' on, the access token "
                "carries a permissions array; a role-based ORDS profile can read it. Define a "
                "permission named exactly as the ORDS role, give it to an Auth0 role, assign "
                "users.",
                (
                    ("APIs > (API) > Settings: Enable RBAC", "on"),
                    ("Add Permissions in the Access Token", "on"),
                    ("Permission", plan.role),
                    ("ORDS profile p_role_claim_name", "/permissions"),
                ),
            )
        )
    items += _web_clients(
        plan, "Applications > Create Application > Regular Web Application", False
    )
    caveats = [
        "Do not let the connector request 'openid' for this API if you can avoid it: Auth0 "
        "then issues an aud array (MCP URL and userinfo), which ORDS is reported to reject "
        "(one report, unconfirmed).",
        "Whether Auth0 honours the RFC 8707 'resource' parameter MCP clients send instead of "
        "'audience' is not confirmed here: the Default Audience covers both.",
    ]
    if not plan.issuer.endswith("/"):
        caveats.append(
            f"Auth0 issuers end with '/': check the issuer given ({plan.issuer}) against a "
            "token's iss."
        )
    caveats += _audience_caveat(plan)
    if not plan.role:
        caveats.append(_scope_based_caveat(plan, "scope"))
    return items, caveats


def keycloak(plan: Plan) -> Steps:
    """A client scope with an audience mapper, realm roles as a top-level roles claim."""
    items = [
        ChecklistItem(
            f"Create the client scope {plan.scope_name} with an Audience mapper for "
            f"{plan.aud_words}",
            "Keycloak puts no API in aud by itself; the Audience mapper with a custom audience "
            f"adds it to tokens requested with this scope. {_aud_note(plan)}",
            (
                ("Client scopes > Create client scope: Name", plan.scope_name),
                ("Protocol", "OpenID Connect"),
                ("Include in token scope", "On"),
                ("Mappers > By configuration", "Audience"),
                ("Included Custom Audience", plan.aud),
                ("Add to access token", "On"),
                ("ORDS profile p_audience", plan.aud),
            ),
        ),
    ]
    if plan.role:
        items += [
            ChecklistItem(
                f"Create the realm role {plan.role} and assign it to the users",
                "Its name must equal the ORDS role name exactly (case counts).",
                (("Realm roles > Create role: Role name", plan.role),),
            ),
            ChecklistItem(
                "Map realm roles to a top-level roles claim in access tokens",
                "Keycloak puts realm roles under realm_access.roles by default; a User Realm "
                "Role mapper with the claim name 'roles' puts them where /roles points "
                "(or use p_role_claim_name '/realm_access/roles').",
                (
                    (
                        f"Client scopes > {plan.scope_name} > Mappers > By configuration",
                        "User Realm Role",
                    ),
                    ("Token Claim Name", "roles"),
                    ("Multivalued", "On"),
                    ("Add to access token", "On"),
                    ("ORDS profile p_role_claim_name", ROLE_POINTER),
                ),
                confirmed=False,
            ),
        ]
    for client in plan.clients:
        label = CLIENT_LABELS[client]
        items.append(
            ChecklistItem(
                f"Create a confidential client for the {label} connector",
                "Give the connector its client ID and secret (Credentials tab); keep the access "
                "token signature algorithm RS256 (ORDS verifies RS256/384/512 only).",
                (
                    ("Clients > Create client: Client ID", f"{client}-connector"),
                    ("Client authentication", "On"),
                    ("Standard flow", "On"),
                    *(("Valid redirect URIs", uri) for uri in CLIENT_REDIRECTS[client]),
                    ("Client scopes > Add client scope", f"{plan.scope_name} (Default)"),
                    ("Access token signature algorithm", "RS256"),
                ),
            )
        )
    caveats = _audience_caveat(plan)
    if not plan.role:
        caveats.append(_scope_based_caveat(plan, "scope"))
    return items, caveats


def oci_iam(plan: Plan) -> Steps:
    """A resource server application, client access to the signing keys, the issuer."""
    try:
        split = urlsplit(plan.issuer)
        domain = (
            f"https://{split.hostname}"
            if split.hostname and split.hostname.startswith("idcs-")
            else None
        )
    except ValueError:
        domain = None
    jwk = f"{domain or 'https://idcs-<domain>.identity.oraclecloud.com'}/admin/v1/SigningCert/jwk"
    items = [
        ChecklistItem(
            "Configure a confidential application as the resource server of the MCP URL",
            f"The primary audience becomes the token's aud. {_aud_note(plan)}",
            (
                ("Integrated applications > Add application", "Confidential Application"),
                ("OAuth configuration", "Configure this application as a resource server now"),
                ("Primary audience", plan.aud),
                ("Scope", plan.scope_name),
                ("ORDS profile p_audience", plan.aud),
            ),
        ),
        ChecklistItem(
            "Let clients read the domain's signing keys (Configure client access)",
            "ORDS fetches the JWK URL without credentials; the domain answers it only when "
            "client access to the signing certificate is allowed.",
            (("Domain settings", "Configure client access"), ("ORDS profile p_jwk_url", jwk)),
        ),
        ChecklistItem(
            "Use the tokens' issuer, not the domain URL, as p_issuer",
            "Domain tokens carry iss https://identity.oraclecloud.com/ by default; the keys "
            "are still fetched from the domain URL.",
            (("ORDS profile p_issuer", "https://identity.oraclecloud.com/"),),
        ),
    ]
    for client in plan.clients:
        label = CLIENT_LABELS[client]
        items.append(
            ChecklistItem(
                f"Create a confidential client application for the {label} connector",
                "Give the connector its client ID and secret.",
                (
                    ("Client configuration", "Configure this application as a client now"),
                    ("Allowed grant types", "Authorization code"),
                    *(("Redirect URL", uri) for uri in CLIENT_REDIRECTS[client]),
                    (
                        "Token issuance policy > Add scope",
                        f"{plan.aud} ({plan.scope_name})",
                    ),
                ),
            )
        )
    if plan.role:
        items.append(
            ChecklistItem(
                f"Put the ORDS role {plan.role} into an access-token claim array",
                "No source we have shows OCI IAM access tokens carrying group or role names; "
                "prefer a scope-based profile (privilege named as the scope).",
                (("ORDS profile p_role_claim_name", "<pointer to that claim>"),),
                confirmed=False,
            )
        )
    caveats = _audience_caveat(plan)
    if not plan.role:
        caveats.append(_scope_based_caveat(plan, "scope"))
    return items, caveats


def generic(plan: Plan) -> Steps:
    """What any IdP must do for ORDS and the MCP connectors."""
    items = [
        ChecklistItem(
            f"Issue JWT access tokens whose aud is {plan.aud_words}",
            "ORDS compares aud with p_audience exactly (a single string is safest); MCP "
            f"clients send resource=<MCP URL>. {_aud_note(plan)}",
            (("Audience", plan.aud), ("ORDS profile p_audience", plan.aud)),
        ),
        ChecklistItem(
            f"Define the scope {plan.scope_name}",
            "The connector requests what scopes_supported advertises.",
            (("Scope", plan.scope_name),),
        ),
        ChecklistItem(
            "Sign access tokens with RS256 (or RS384/RS512) and publish the keys over https",
            "ORDS verifies only these algorithms, with keys from an https JWK URL it can reach.",
            (("Signing algorithm", "RS256"), ("ORDS profile p_issuer", plan.issuer)),
        ),
    ]
    if plan.role:
        items.append(
            ChecklistItem(
                f"Put the role {plan.role} into a top-level roles claim (an array)",
                "A role-based ORDS profile reads role names from the array its pointer names; "
                "the name must equal the ORDS role exactly (case counts).",
                (
                    ("Claim", "roles"),
                    ("Value contains", plan.role),
                    ("ORDS profile p_role_claim_name", ROLE_POINTER),
                ),
            )
        )
    items += _web_clients(plan, "Client registration", False)
    caveats = _audience_caveat(plan)
    if not plan.role:
        caveats.append(_scope_based_caveat(plan, "scope"))
    return items, caveats


def _web_clients(plan: Plan, where: str, okta_style: bool) -> list[ChecklistItem]:
    items = []
    for client in plan.clients:
        label = CLIENT_LABELS[client]
        field = "Sign-in redirect URI" if okta_style else "Allowed Callback URL"
        items.append(
            ChecklistItem(
                f"Register a web client for the {label} connector, with a client secret",
                "Give the connector its client ID and secret, or allow dynamic client "
                "registration if the IdP offers it.",
                (
                    ("Where", where),
                    ("Grant type", "Authorization Code"),
                    *((field, uri) for uri in CLIENT_REDIRECTS[client]),
                    ("Client authentication", "Client secret"),
                ),
            )
        )
    return items


BUILDERS: dict[str, Callable[[Plan], Steps]] = {
    "entra": entra,
    "okta": okta,
    "auth0": auth0,
    "keycloak": keycloak,
    "oci-iam": oci_iam,
    "generic": generic,
}
