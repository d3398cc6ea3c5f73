"""Hostile requests against every registry endpoint (issue 11): bodies from the corpus on PUT, POST and PATCH,
hostile query parameters and headers on the reads. Every answer must be 2xx or a 4xx problem detail, and the
directory must still list and search afterwards. Used by the tests and by benchmarks/hostile.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hostile_corpus import corpus, td

TD_JSON = {"Content-Type": "application/td+json"}
PATCH = {"Content-Type": "application/merge-patch+json"}
HUGE = "9" * 5000


def _requests() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(label, method, path, httpx keyword arguments) of every hostile request."""
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    for item in corpus():
        if item.kind in ("description", "design") and len(item.data) < 4 * 2**20:
            out.append(
                (f"PUT {item.name}", "PUT", "/things/urn:hostile:put", {"content": item.data, "headers": TD_JSON})
            )
            out.append((f"POST {item.name}", "POST", "/things", {"content": item.data, "headers": TD_JSON}))
            out.append(
                (f"PATCH {item.name}", "PATCH", "/things/urn:hostile:ok", {"content": item.data, "headers": PATCH})
            )
    patches: dict[str, str] = {
        "ttl 1e308": '{"registration": {"ttl": 1e308}}',
        "ttl negative": '{"registration": {"ttl": -5}}',
        "ttl true": '{"registration": {"ttl": true}}',
        "ttl text": '{"registration": {"ttl": "soon"}}',
        "registration list": '{"registration": []}',
        "title NaN": '{"title": NaN}',
        "title null": '{"title": null}',
        "drop context": '{"@context": null, "@type": null}',
        "huge int": '{"x": ' + HUGE + "}",
        "surrogate": '{"title": "a\\ud800"}',
        "not an object": "[1, 2]",
        "capabilities text": '{"lmos:capabilities": "all of them"}',
    }
    for label, body in patches.items():
        out.append((f"PATCH {label}", "PATCH", "/things/urn:hostile:ok", {"content": body, "headers": PATCH}))
    for label, body in {
        "TD NaN": json.dumps(td(description=float("nan"))),
        "TD ttl 1e308": json.dumps(td(registration={"ttl": 1e308})),
        "TD huge int": json.dumps(td()).replace('"hostile"', '"hostile", "n": ' + HUGE),
    }.items():
        out.append((f"PUT {label}", "PUT", "/things/urn:hostile:put", {"content": body, "headers": TD_JSON}))
    for path in ("/things", "/search"):
        for query in (
            "offset=100000000000000000000",
            "offset=-1",
            "limit=0",
            "limit=100000000000000000000",
            f"offset={HUGE}",
            "offset=1.5",
            "limit=abc",
            "q=" + "a" * 5000,
            "q=%ED%A0%80",
        ):
            out.append((f"GET {path}?{query[:30]}", "GET", f"{path}?{query}", {}))
    for value in ("²", HUGE, "9" * 30, "-1", "1e3", "x1", "１２"):
        out.append(
            (
                f"GET /events Last-Event-ID {value[:12]!r}",
                "GET",
                "/events",
                {"headers": {"Last-Event-ID": value.encode()}},
            )
        )
    out += [
        ("GET unknown", "GET", "/things/urn:nobody", {}),
        ("DELETE unknown", "DELETE", "/things/urn:nobody", {}),
        (
            "PUT wrong type",
            "PUT",
            "/things/urn:hostile:put",
            {"content": b"{}", "headers": {"Content-Type": "text/html"}},
        ),
        ("GET events type", "GET", "/events/nothing", {}),
    ]
    return out


def run_registry_cases(url: str) -> list[dict[str, Any]]:
    """Send every hostile request; one record per request (status, problem detail present, 5xx)."""
    records = []
    with httpx.Client(base_url=url, timeout=30) as http:
        ok = http.put("/things/urn:hostile:ok", content=json.dumps(td(title="ok")), headers=TD_JSON)
        assert ok.status_code in (201, 204), ok.text
        for label, method, path, kwargs in _requests():
            try:
                if path.startswith("/events") and method == "GET":
                    with http.stream(method, path, **kwargs) as response:
                        status, body, ctype = response.status_code, b"", response.headers.get("content-type", "")
                        if status != 200:
                            body = response.read()
                else:
                    response = http.request(method, path, **kwargs)
                    status, body, ctype = (
                        response.status_code,
                        response.content,
                        response.headers.get("content-type", ""),
                    )
            except httpx.HTTPError as exc:
                records.append({"request": label, "status": None, "error": str(exc)})
                continue
            problem = ctype.startswith("application/problem+json") and b'"detail"' in body
            records.append(
                {"request": label, "status": status, "problem": problem, "body": body[:200].decode(errors="replace")}
            )
        for path in ("/things", "/search?q=ok", "/things/urn:hostile:ok"):
            response = http.get(path)
            records.append(
                {"request": f"GET {path} afterwards", "status": response.status_code, "problem": False, "body": ""}
            )
    return records
