"""Plan the nginx part of ``setup``: discovery documents, the 401 challenge, the token log.

Pure planning: the configuration is read (already parsed), nothing is written and no
process runs. The plan is new files in a directory of their own (``snippet_dir``), each
included from the user's configuration by ONE added ``include`` line inside the block it
belongs to (the ``http`` block, the server that serves the MCP URL, the location that
serves its path), plus a ``load_module`` line when the headers-more module is needed
and not loaded. Planning again once applied gives no change.

What is already there is kept, never duplicated (``nginx -t`` would refuse a second exact
location or a second ``error_page 401``): it is named in ``notes``, and in ``warnings``
when it serves something else than the plan would.

nginx's inheritance is respected: an ``access_log`` on a level stops the outer ones being
inherited, so the ones the token log would cancel are repeated beside it; an
``add_header`` in a location cancels the outer ones, so our locations repeat them. An
``error_page`` cancels the outer ones too, but those are NOT repeated unless nginx
intercepted ORDS's errors already: with ``proxy_intercept_errors on`` (which the 401
needs) a repeated page would replace ORDS's own 404s and 5xx as well.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from inspector.setup import nginx_checks as checks
from inspector.setup import nginx_snippets as snippets
from inspector.setup.model import FileChange, ResourceFacts
from inspector.setup.nginx_checks import Findings, own, where
from inspector.setup.nginx_files import (
    SnippetPaths,
    add_snippet,
    file_changes,
    place_includes,
    slug,
)
from inspector.setup.nginx_locate import (
    UrlTarget,
    choose_server,
    find_location,
    location_spec,
    url_target,
)
from inspector.setup.nginx_text import quote
from parsers.nginx.model import Directive, NginxConfig

NAMED_LOCATION = "@token_inspector_401"


@dataclass(frozen=True, slots=True)
class NginxPlanOptions:
    """Choices the admin may make; the defaults fit a distribution's nginx layout.

    ``snippet_dir``: where the new files go (default: ``token-inspector`` beside
    nginx.conf). ``token_log``: the token log's path (default: next to an existing token
    log, else ``/var/log/nginx/mcp-tokens.log``). ``full_tokens``: log the Authorization
    header as sent (to debug a signature failure; warned about). ``headers_more_module``:
    the ``.so`` to load when headers-more is not loaded (default: the distribution's).
    """

    snippet_dir: Path | None = None
    token_log: Path | None = None
    full_tokens: bool = False
    headers_more_module: Path | None = None


@dataclass(frozen=True, slots=True)
class NginxPlan:
    """What setup would change in nginx, and what it would then serve.

    ``changes`` holds only files whose content changes; ``blockers`` non-empty means the
    plan must not be applied (each says why and what to do). ``new_token_log`` is the
    token log when the plan writes its ``access_log`` and the file does not exist yet: the
    applier creates it private (nginx would create it readable by every local user).
    """

    changes: tuple[FileChange, ...]
    documents: Mapping[str, Mapping[str, object]]
    metadata_urls: tuple[str, ...]
    challenge: str
    token_log: Path | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()
    new_token_log: Path | None = None


def _strip_ours(directives: tuple[Directive, ...], ours: frozenset[str]) -> tuple[Directive, ...]:
    """The user's own directives: what setup's files added is left out."""
    out = []
    for d in directives:
        if checks.is_ours(d.file, ours):
            continue
        if d.block is not None:
            d = replace(d, block=_strip_ours(d.block, ours))
        out.append(d)
    return tuple(out)


def plan_nginx(
    config: NginxConfig, facts: ResourceFacts, options: NginxPlanOptions | None = None
) -> NginxPlan:
    """Plan the nginx changes for ``facts`` in ``config`` (parsed with ``strict=False``).

    Finds the server and location nginx serves the MCP URL with, and plans the metadata
    documents at both well-known URIs, the 401 challenge rewrite, and the token log (the
    signature-free format unless ``options.full_tokens``).
    """
    options = options or NginxPlanOptions()
    found = Findings()
    found.blockers.extend(checks.fact_refusals(facts))
    urls = checks.metadata_urls(facts.mcp_url)
    challenge = checks.challenge(urls[0], facts.scopes) if urls else ""
    document = checks.document(facts)
    documents = MappingProxyType(
        {urlsplit(url).path: MappingProxyType(dict(document)) for url in urls}
    )
    snippet_dir = checks.absolute(options.snippet_dir or config.path.parent / "token-inspector")
    for what, path in (
        ("the snippet directory", snippet_dir),
        ("the token log path", options.token_log),
        ("the headers-more module path", options.headers_more_module),
    ):
        reason = None if path is None else checks.path_refusal(what, path)
        if reason:
            found.blockers.append(reason)

    def result(
        token_log: Path | None = None,
        changes: tuple[FileChange, ...] = (),
        new_token_log: Path | None = None,
    ) -> NginxPlan:
        return NginxPlan(
            changes=changes,
            documents=documents,
            metadata_urls=urls,
            challenge=challenge,
            token_log=token_log,
            notes=tuple(found.notes),
            warnings=tuple(found.warnings),
            blockers=tuple(found.blockers),
            new_token_log=new_token_log,
        )

    if found.blockers:
        return result()
    for problem in config.problems:
        found.warnings.append(f"nginx -t would refuse the configuration as it is: {problem}")
    paths = SnippetPaths(snippet_dir, slug(facts.mcp_url))
    ours = frozenset(str(p) for p in (paths.http, paths.server, paths.location, paths.document))
    tree = _strip_ours(config.directives, ours)
    target = url_target(facts.mcp_url)
    pick = _pick(tree, target, found)
    if pick is None:
        return result()
    http, server, chain = pick
    location = chain[-1]

    server_parts: list[str] = []
    location_lines: list[str] = []
    http_headers = [d for d in http.block or () if d.name == "add_header"]
    inherited_headers = own(server, "add_header") or http_headers

    # -- metadata documents ----------------------------------------------------------------
    wanted = [urlsplit(u).path for u in urls]
    existing = {
        location_spec(d).uri: d for d in own(server, "location") if location_spec(d).modifier == "="
    }
    serve_document = False
    for uri, url in zip(wanted, urls, strict=True):
        kept = existing.get(checks.decoded(uri))
        if kept is not None:
            checks.compare_kept_document(kept, document, config.prefix, found)
            continue
        serve_document = True
        server_parts.append(
            snippets.metadata_location(checks.decoded(uri), paths.document, inherited_headers)
        )
        found.notes.append(f"{url} will serve the protected-resource metadata")
    if serve_document:
        found.files[paths.document] = (
            snippets.metadata_json(document),
            "the protected-resource metadata document (RFC 9728)",
        )

    # -- the 401 challenge -----------------------------------------------------------------
    named = checks.free_name(NAMED_LOCATION, server)
    pages = checks.error_pages(chain, server, http)
    kept_401 = pages.page_401
    levels = (http, server, *chain)
    # What nginx did with ORDS's error responses before setup: interception decides
    # whether the error_pages in force replace them or only nginx's own errors.
    intercepted = checks.intercepts(levels)
    need_named = False
    named_at = 0
    if kept_401 is not None:
        checks.compare_kept_challenge(kept_401, server, challenge, found)
        # Their error_page only sees ORDS's 401 when nginx intercepts it: when nothing in
        # the chain says so (setup's own location file did, before the user took over),
        # the line stays in setup's file.
        if own(location, "proxy_pass") and not any(
            own(level, "proxy_intercept_errors") for level in levels
        ):
            location_lines.append("proxy_intercept_errors on;")
            _other_pages_intercepted(pages, found, by=kept_401)
    else:
        intercept = own(location, "proxy_intercept_errors")
        if intercept and intercept[-1].args[:1] != ("on",):
            found.blockers.append(
                f"{where(intercept[-1])}: proxy_intercept_errors is not on in the MCP "
                "location, so nginx cannot replace ORDS's 401: change that line to "
                "'proxy_intercept_errors on;' and plan again"
            )
        elif not intercept:
            location_lines.append("proxy_intercept_errors on;")
        if not own(location, "proxy_pass"):
            found.warnings.append(
                f"{where(location)}: the MCP location has no proxy_pass: "
                "proxy_intercept_errors only rewrites a proxied 401"
            )
        location_lines.append(f"error_page 401 = {named};")
        location_lines.extend(_inherited_pages(pages, intercepted, found))
        need_named = True
        named_at = len(server_parts)
        if location_spec(location).uri != target.path:
            found.notes.append(
                f"{where(location)}: 'location {' '.join(location.args)}' serves other "
                "paths too: their 401s get the same challenge"
            )
    if need_named:
        checks.headers_more(tree, config, options.headers_more_module, found)

    # -- the token log ---------------------------------------------------------------------
    formats = checks.log_formats(config, tree, ours, options.full_tokens, found)
    log = checks.token_log(
        config,
        (http, server, chain),
        formats,
        options.token_log,
        options.full_tokens,
        ours,
        found,
    )
    named_logs = ""
    new_log = None
    if log.level is not None:
        if log.path is not None and log.path.is_absolute() and not os.path.lexists(log.path):
            new_log = log.path
            found.notes.append(
                f"{log.path}: created empty before nginx is tested, mode 0640, group of its "
                "directory (nginx would create it readable by every local user)"
            )
        lines = snippets.access_log_lines(log.path, formats.token_name, log.repeated)
        if log.level is server:
            server_parts.append(lines)
        else:
            location_lines.extend(lines.splitlines())
            named_logs = snippets.access_log_lines(log.path, formats.token_name, log.written)
            if kept_401 is not None:
                found.warnings.append(
                    f"{where(kept_401)}: the 401 goes to a location of yours, which does not "
                    f"write the token log {log.path} (it is in the MCP location): add "
                    f"'access_log {quote(str(log.path))} {formats.token_name};' there"
                )
    if need_named:
        server_parts.insert(
            named_at,
            snippets.challenge_location(named, challenge, inherited_headers, named_logs),
        )
    # -- files and includes ----------------------------------------------------------------
    conf_dir = checks.absolute(config.path.parent)
    _empty_unneeded(found, paths, facts.mcp_url)
    if formats.http_text is not None:
        add_snippet(found, http, paths.http, formats.http_text, "http level: token log formats")
    if server_parts:
        text = snippets.HEADER.format(what="metadata, challenge, token log") + "\n".join(
            server_parts
        )
        add_snippet(found, server, paths.server, text, f"server serving {facts.mcp_url}")
    if location_lines:
        text = snippets.HEADER.format(what="the MCP location") + "\n".join(location_lines) + "\n"
        add_snippet(found, location, paths.location, text, f"location serving {target.path}")
    place_includes(found, conf_dir)
    changes = file_changes(found)
    return result(log.path, changes, new_log if changes else None)


def _inherited_pages(pages: checks.ErrorPages, intercepted: bool, found: Findings) -> list[str]:
    """What setup's ``error_page 401`` does to the other error_pages in force, and the lines
    (if any) that repeat them beside it.

    With interception on, nginx replaces every proxied response of 300 or more that has
    an ``error_page`` in force. Setup turns interception on for the 401 only: the other
    pages must not start replacing ORDS's own 404s and 5xx (its JSON-RPC error bodies).
    An inherited list is therefore repeated only when interception was on already (then
    nothing changes for those codes); else it is cancelled by setup's error_page.
    """
    codes = checks.other_codes(pages.in_force)
    if not codes:
        return []
    shown = ", ".join(codes)
    source = ", ".join(dict.fromkeys(where(p) for p in pages.in_force))
    if intercepted:
        found.warnings.append(
            f"{source}: proxy_intercept_errors is on already in the MCP location, so "
            f"nginx replaces ORDS's own {shown} responses (its JSON-RPC error bodies) with "
            "these error pages; setup changes nothing about that"
            + (
                " (it repeats them beside its error_page 401, which would cancel them)"
                if pages.inherited
                else ""
            )
        )
        if not pages.inherited:
            return []
        lines: list[str] = []
        for page in pages.in_force:
            lines.append(f"# repeated from {page.file} (an error_page here cancels it)")
            lines.append(snippets.directive_line("error_page", page.args))
        return lines
    if pages.inherited:
        found.notes.append(
            f"{source}: error_page for {shown} no longer applies in the MCP location: "
            "nginx inherits error_page only into a level without one of its own, and "
            "setup's error_page 401 is one. Not repeated on purpose: with "
            "proxy_intercept_errors on, a repeated page would also replace ORDS's own "
            f"{shown} responses (its JSON-RPC error bodies), which pass through "
            "unchanged, as without setup. Errors nginx makes itself there (502/504 when ORDS "
            "is down or slow) get nginx's built-in page instead of yours"
        )
        return []
    _other_pages_intercepted(pages, found, by=None)
    return []


def _other_pages_intercepted(
    pages: checks.ErrorPages, found: Findings, by: Directive | None
) -> None:
    """Warn that the user's own error_pages will now replace ORDS's responses too."""
    codes = checks.other_codes(pages.in_force)
    if not codes:
        return
    shown = ", ".join(codes)
    source = ", ".join(dict.fromkeys(where(p) for p in pages.in_force))
    why = f"so that {where(by)} sees ORDS's 401" if by is not None else "for ORDS's 401"
    found.warnings.append(
        f"{source}: these error_page lines are in force in the MCP location and setup "
        f"turns proxy_intercept_errors on there {why}: nginx will then also replace "
        f"ORDS's own {shown} responses (its JSON-RPC error bodies) with these pages, "
        "where without interception they apply only to errors nginx makes itself. To "
        "keep ORDS's "
        "answers, remove those codes from the error_page lines the MCP location uses"
    )


def _empty_unneeded(found: Findings, paths: SnippetPaths, mcp_url: str) -> None:
    """Setup's own server or location file that this plan no longer needs is emptied.

    The user took over what it added (their own ``error_page 401``, metadata locations,
    token log): left as it was, it would conflict (nginx -t refuses a second exact
    location or a missing named one; a second ``error_page 401`` shadows one of them).
    Emptied, not removed: the user's file still includes it, and a comment is all it holds.
    """
    for path, what in ((paths.server, "server"), (paths.location, "MCP location")):
        if path in found.files or not path.is_file():
            continue
        text = snippets.HEADER.format(what=f"the {what}") + (
            "# Nothing to add here any more: your configuration does it itself. The include\n"
            "# line that pulls this file in may be removed.\n"
        )
        found.files[path] = (text, f"emptied: the {what} of {mcp_url} needs nothing from setup")
        found.notes.append(
            f"{path}: what it added is now in your configuration: emptied so the two do "
            "not conflict"
        )


def _pick(
    tree: tuple[Directive, ...], target: UrlTarget, found: Findings
) -> tuple[Directive, Directive, tuple[Directive, ...]] | None:
    servers: list[tuple[Directive, Directive]] = [
        (http, d)
        for http in tree
        if http.name == "http"
        for d in http.block or ()
        if d.name == "server"
    ]
    choice = choose_server((s for _, s in servers), target)
    if choice.server is None:
        found.blockers.append(
            f"no server block serves {target.scheme}://{target.host}:{target.port}: "
            f"{choice.reason}; add one (listen {target.port}"
            f"{' ssl' if target.scheme == 'https' else ''}; server_name {target.host};) "
            "or pass the nginx.conf that has it"
        )
        return None
    http = next(h for h, s in servers if s is choice.server)
    server = choice.server
    found.notes.append(f"{where(server)}: server block chosen ({choice.reason})")
    listens = [d for d in server.block or () if d.name == "listen"]
    if target.scheme == "https" and listens and not any("ssl" in d.args for d in listens):
        found.warnings.append(
            f"{where(server)}: the MCP URL is https but this server listens without ssl "
            "(TLS ended in front of nginx?)"
        )
    for d in own(server, "return"):
        found.warnings.append(
            f"{where(d)}: 'return' at server level answers every request before any "
            "location is chosen: the metadata and the challenge will not be served"
        )
    for d in (*own(http, "auth_basic"), *own(server, "auth_basic"), *own(server, "auth_request")):
        if d.args[:1] != ("off",):
            found.warnings.append(
                f"{where(d)}: {d.name} applies to the metadata locations too, and clients "
                "fetch the metadata without credentials: turn it off there"
            )
    chain = find_location(server.block or (), target.path)
    if not chain:
        found.blockers.append(
            f"{where(server)}: no location in this server serves {target.path}: add one "
            f"(e.g. 'location {target.path} {{ proxy_pass ...; }}') and plan again"
        )
        return None
    found.notes.append(
        f"{where(chain[-1])}: 'location {' '.join(chain[-1].args)}' serves {target.path}"
    )
    return http, server, chain
