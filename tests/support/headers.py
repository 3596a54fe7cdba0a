"""What every answer's security headers must hold; the route walk and the header tests share it."""

from __future__ import annotations

REQUIRED_DIRECTIVES = ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")


def csp_directives(policy: str) -> dict[str, str]:
    parts = (part.strip() for part in policy.split(";"))
    return {p.split(" ", 1)[0]: p for p in parts if p}


def header_problems(route, response) -> list[str]:
    where = f"{route.method} {route.url} ({response.status_code})"
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    found = []
    if not policy:
        return [f"{where}: no Content-Security-Policy"]
    if "unsafe-eval" in policy or "unsafe-inline" in policy:
        found.append(f"{where}: the policy allows eval or inline code")
    directives = csp_directives(policy)
    for required in REQUIRED_DIRECTIVES:
        if directives.get(required.split(" ")[0]) != required:
            found.append(f"{where}: the policy lacks {required}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        found.append(f"{where}: no nosniff")
    if not headers.get("Referrer-Policy"):
        found.append(f"{where}: no Referrer-Policy")
    if route.endpoint != "static" and "no-store" not in headers.get("Cache-Control", ""):
        found.append(f"{where}: may be cached")
    return found
