"""docs/idp-setup.md, generated from the checklist code so the two never disagree.

``python -m inspector.setup.idp_doc docs/idp-setup.md`` rewrites it;
tests/test_setup_idp_checklist.py checks it is current.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inspector.setup.idp_checklist import FAMILY_LABELS, idp_checklist, render_checklist
from inspector.setup.model import ResourceFacts

SAMPLE_URL = "https://mcp.example.com/ords/hr/mcp"
SAMPLE_TENANT = "5b3f9c2e-7a41-4d8e-9c1b-2e6f0a4d8b17"
SAMPLE_APP = "8f6d1c2a-1111-4222-8333-944455556666"
SAMPLE_ROLE = "ORDSUsers"
# One issuer per family, in the order the document lists them.
SAMPLE_ISSUERS = {
    "entra": f"https://login.microsoftonline.com/{SAMPLE_TENANT}/v2.0",
    "okta": "https://acme.okta.com/oauth2/default",
    "auth0": "https://acme.eu.auth0.com/",
    "keycloak": "https://sso.example.com/realms/mcp",
    "oci-iam": "https://idcs-0a1b2c.identity.oraclecloud.com",
    "generic": "https://idp.example.com/",
}

INTRO = """\
# Identity provider set-up

`token-inspector setup` configures nginx and ORDS itself, but what only the identity
provider's admin can do is printed: a numbered checklist with the exact value of every
field and, for Microsoft Entra ID, an `az` CLI script. The IdP family is read from the
issuer URL. Items marked *unconfirmed* rest on no source we have: check them in the IdP.

This page is generated from the code (`python -m inspector.setup.idp_doc
docs/idp-setup.md`) for ChatGPT and Claude, the ORDS role `{role}` and the MCP URL
`{url}`.

The Entra script reads the app registration before each change and merges into it
(a Graph PATCH replaces a whole list and refuses to drop an enabled scope or app role),
quotes every value, and uses `--append` when it creates a client secret.
"""


def _sample_facts() -> ResourceFacts:
    return ResourceFacts(mcp_url=SAMPLE_URL, authorization_servers=())


def markdown() -> str:
    """The whole document: the Entra checklist in full, the other families' item titles."""
    parts = [INTRO.format(url=SAMPLE_URL, role=SAMPLE_ROLE)]
    for family, issuer in SAMPLE_ISSUERS.items():
        checklist = idp_checklist(
            _sample_facts(),
            issuer=issuer,
            role=SAMPLE_ROLE,
            app_id=SAMPLE_APP if family == "entra" else None,
        )
        parts.append(f"## {FAMILY_LABELS[family]} (issuer `{issuer}`)\n")
        if family == "entra":
            parts.append("```text\n" + render_checklist(checklist).rstrip("\n") + "\n```\n")
            continue
        for number, item in enumerate(checklist.items, 1):
            mark = " *(unconfirmed)*" if not item.confirmed else ""
            parts.append(f"{number}. {item.title}{mark}\n")
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    """Write the document to the file named in ``argv`` (or print it)."""
    if not argv:
        print(markdown(), end="")
        return 0
    Path(argv[0]).write_text(markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
