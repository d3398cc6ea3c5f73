"""Item by item tests of issue 11: the strict readers, the registry's request checks, safe serving,
`registry serve` on a non-loopback address, per-field budgets, secrets never printed, Markdown escaping."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lmos_studio.errors import DesignFileError, RegistryError
from lmos_studio.formats import jsonio, yamlio
from lmos_studio.formats.detect import read_descriptions
from lmos_studio.markdown import escape
from lmos_studio.redact import redact_text, redact_url
from lmos_studio.registry.server import dumps_safe, is_loopback
from lmos_studio.routing.regression import TestOutcome, junit_xml
from tests.hostile.hostile_corpus import CHANNEL
from tests.registry_helpers import make_td, registry_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": NaN}', "NaN is not a number"),
        ('{"a": -Infinity}', "-Infinity is not a number"),
        ('{"a": 1e999}', "overflows to infinity"),
        ('{"a": ' + "9" * 5000 + "}", "integers must fit in 64 bits"),
        ('{"a": 9223372036854775808}', "does not fit in 64 bits"),
        ('{"a": ["x\\ud800"]}', r"a\[0\]: holds a lone surrogate"),
        ("[" * 300 + "]" * 300, "nesting deeper than 200"),
        ('{"a": 1', "malformed JSON"),
    ],
)
def test_the_json_reader_refuses_what_would_break_a_writer(text: str, expected: str) -> None:
    with pytest.raises(DesignFileError, match=expected):
        jsonio.loads(text, source="x.json")


def test_the_json_reader_keeps_good_documents_and_surrogate_pairs() -> None:
    assert jsonio.loads('{"a": [1, 2.5, "\\ud83d\\ude00"], "b": 9223372036854775807}') == {
        "a": [1, 2.5, "😀"],
        "b": 2**63 - 1,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: .inf\n", "x.yaml:1: '.inf' is not a finite number"),
        ("a: 1\nb: .nan\n", "x.yaml:2: '.nan' is not a finite number"),
        ("a: " + "9" * 5000 + "\n", "integers must fit in 64 bits"),
        ("a: &a [*a]\n", "refers to the collection that contains it"),
        ("a: !!binary aGVsbG8=\n", "unsupported tag"),
        ("a: 1\na: 2\n", "x.yaml:2: duplicate key 'a'"),
    ],
)
def test_the_yaml_reader_refuses_hostile_values_naming_the_line(text: str, expected: str) -> None:
    with pytest.raises(DesignFileError, match=expected):
        yamlio.load_documents(text, path="x.yaml")


def test_the_yaml_reader_counts_what_aliases_expand_to() -> None:
    """9 aliases × 8 levels is only 72 references (under the cap of 100) but 43 million nodes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, 9)]
    with pytest.raises(DesignFileError, match="aliases expand the document by more than 100000 nodes"):
        yamlio.load_documents("\n".join(lines), path="laughs.yaml")
    small = yamlio.load_documents("base: &b {k: v}\nuse: *b\nmerged: {<<: *b, z: 1}\n")
    assert small == [{"base": {"k": "v"}, "use": {"k": "v"}, "merged": {"k": "v", "z": 1}}]


def test_the_yaml_reader_keeps_number_text_and_lines() -> None:
    doc = yamlio.load_documents("x: 1\nversion: 1.10\nitems:\n  - {a: 010}\n")[0]
    assert yamlio.text_of(doc["version"]) == "1.10" and yamlio.text_of(doc["items"][0]["a"]) == "010"
    assert doc.line_of("items") == 3 and doc["items"].line == 4


def test_field_budgets_name_the_field() -> None:
    td = make_td("big")
    td["description"] = "word " * 10_000
    with pytest.raises(DesignFileError, match=r"description: agent 'big': a description of 50000 characters"):
        read_descriptions(json.dumps(td), source="big.json")
    td = make_td("many")
    td["lmos:capabilities"] = [{"name": "cap", "version": "1.0.0", "examples": ["x"] * 500}]
    with pytest.raises(DesignFileError, match=r"capabilities\[0\]\.examples: .*500 examples, more than 200"):
        read_descriptions(json.dumps(td), source="many.json")


def test_channel_budgets_name_the_field() -> None:
    from lmos_studio.formats.design_file import design_from_text

    channel = CHANNEL.format(range="*")
    many = channel.split("  requiredCapabilities:")[0] + "  requiredCapabilities:\n"
    many += "".join(f"    - {{name: cap-{i}, version: '*'}}\n" for i in range(501))
    with pytest.raises(DesignFileError, match=r"spec\.requiredCapabilities: channel 'acme-web-stable': 501 required"):
        design_from_text(many, path="many.yaml")
    long_label = channel.replace("tenant: acme", "tenant: " + "a" * 300)
    with pytest.raises(DesignFileError, match=r"metadata\.labels\.tenant: channel 'acme-web-stable': a label") as err:
        design_from_text(long_label, path="label.yaml")
    assert err.value.path == "label.yaml" and err.value.line == 1
    long_range = channel.replace('version: "*"', "version: '>=" + "1" * 300 + "'")
    with pytest.raises(DesignFileError, match=r"requiredCapabilities\[0\]\.version: .*a required capability version"):
        design_from_text(long_range, path="range.yaml")
    assert design_from_text(channel, path="ok.yaml").design.channels  # within every budget


def test_kubeconfig_is_read_by_the_hardened_reader(tmp_path: Path) -> None:
    from lmos_studio.errors import ConfigError
    from lmos_studio.registry.kubeconfig import MAX_KUBECONFIG_BYTES, kubeconfig_contexts, load_kubeconfig

    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    cases = {
        "bomb": (bomb, "alias"),
        "deep": ("contexts: " + "[" * 300 + "]" * 300 + "\n", "nesting deeper"),
        "tagged": ("contexts: !!python/object:os.system [ls]\n", "unsupported tag"),
        "nan": ("clusters: [{name: c, cluster: {server: .nan}}]\n", "not a finite number"),
        "big": ("# " + "x" * MAX_KUBECONFIG_BYTES + "\n", "more than the 4 MiB limit"),
        "two": ("a: 1\n---\nb: 2\n", "not a kubeconfig"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        for read in (kubeconfig_contexts, load_kubeconfig):
            with pytest.raises(ConfigError, match=expected) as err:
                read(path)
            assert str(path) in str(err.value), err.value
    certificate = tmp_path / "ca.pem"
    certificate.write_bytes(b"x" * (2 * 2**20))
    config = tmp_path / "config"
    config.write_text(
        "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
        f"clusters: [{{name: k, cluster: {{server: 'https://k', certificate-authority: {certificate}}}}}]\n"
    )
    assert kubeconfig_contexts(config) == ["c"]
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        load_kubeconfig(config)


def test_a_kubeconfig_naming_a_pipe_as_its_token_file_is_refused(tmp_path: Path) -> None:
    """A kubeconfig's tokenFile (or certificate-authority, client-key) naming a pipe blocked the Kubernetes source
    until something wrote to it, /dev/zero filled the memory: such a file is refused, naming it."""
    import threading

    from lmos_studio.errors import ConfigError
    from lmos_studio.registry.kubeconfig import load_kubeconfig

    pipe = tmp_path / "token"
    os.mkfifo(pipe)
    config = tmp_path / "config"
    config.write_text(
        "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
        "clusters: [{name: k, cluster: {server: 'https://k'}}]\n"
        f"users: [{{name: u, user: {{tokenFile: {pipe}}}}}]\n"
    )

    def unblock() -> None:  # without the fix: end the blocked read (an empty token) rather than hang the suite
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))

    timer = threading.Timer(20, unblock)
    timer.start()
    try:
        with pytest.raises(ConfigError, match=f"{pipe} is not a regular file"):
            load_kubeconfig(config)
    finally:
        timer.cancel()


def test_stored_documents_can_always_be_served() -> None:
    """A document stored before the reader was strict (NaN, a lone surrogate) is served, never a 500."""
    body = json.loads(dumps_safe({"a": float("nan"), "b": "x\ud800", "c": [float("inf"), 1]}))
    assert body == {"a": None, "b": "x\ud800", "c": [None, 1]}


def test_patch_is_validated_like_put(tmp_path: Path) -> None:
    with registry_server(tmp_path) as url:
        thing = json.dumps(make_td("p"))
        assert httpx.put(
            f"{url}/things/urn:p", content=thing, headers={"Content-Type": "application/td+json"}
        ).is_success
        merge = {"Content-Type": "application/merge-patch+json"}
        for patch, field in [
            ('{"registration": {"ttl": 1e308}}', "registration.ttl"),
            ('{"registration": {"ttl": -1}}', "registration.ttl"),
            ('{"registration": {"ttl": 1e999}}', "body"),
            ('{"description": "' + "w" * 30_000 + '"}', "description"),
        ]:
            answer = httpx.patch(f"{url}/things/urn:p", content=patch, headers=merge)
            assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
        assert httpx.patch(f"{url}/things/urn:p", content='{"registration": {"ttl": 60}}', headers=merge).is_success
        for path in ("/things", "/search", "/things/urn:p"):
            assert httpx.get(url + path).status_code == 200
        for query in ("offset=100000000000000000000", "limit=0", "offset=-1"):
            assert httpx.get(f"{url}/search?{query}").status_code == 400
        answer = httpx.get(f"{url}/events", headers={"Last-Event-ID": "9" * 30})
        assert answer.status_code == 400 and answer.json()["field"] == "Last-Event-ID"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_on_a_public_address_needs_a_token_or_the_explicit_flag(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    with socket.socket() as busy:  # a port in use: the allowed run stops at the bind, after the token check
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        cmd = [sys.executable, "-m", "lmos_studio", "registry", "serve", "--host", "0.0.0.0", "--port", port]
        refused = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
        assert refused.returncode == 2
        assert "LMOS_STUDIO_REGISTRY_TOKEN" in refused.stderr and "--allow-anonymous-writes" in refused.stderr
        assert "Traceback" not in refused.stderr
        allowed = subprocess.run(
            [*cmd, "--allow-anonymous-writes"], capture_output=True, text=True, env=env, timeout=120, check=False
        )
        assert allowed.returncode == 2 and "cannot listen" in allowed.stderr, allowed.stderr


def test_serve_on_a_port_out_of_range_is_exit_2(tmp_path: Path) -> None:
    """Bug (session 14 QA): `registry serve --port 99999` ended in an OverflowError traceback, exit 1."""
    env = {"PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "lmos_studio", "registry", "serve", "--port", "99999"]
    refused = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "error: --port is 99999; give a port from 1 to 65535" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("announce", "{agent}", "--port", "99999", "--duration", "1"), "--port is 99999; give a port from 0 to 65535"),
        (("announce", "{agent}", "--duration", "-1"), "--duration is -1.0; give seconds above 0, or 0 for Ctrl-C"),
        (("discover", "--timeout", "-1"), "--timeout is -1.0; give seconds above 0"),
        (("discover", "--timeout", "nan"), "--timeout is nan; give seconds above 0"),
    ],
)
def test_mdns_commands_refuse_numbers_out_of_range(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    """Bug (session 14 QA): `announce --port 99999` ended in an OverflowError traceback (exit 1), `announce
    --duration -1` ran until killed, and `discover --timeout -1` (or nan) printed an empty table with exit 0."""
    agent = ROOT / "sample_networks" / "acme" / "operator-fixtures" / "acme-billing-agent-v1.yaml"
    env = {"PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "lmos_studio", *(a.format(agent=agent) for a in args)]
    refused = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert f"error: {message}" in refused.stderr, refused.stderr


def test_urls_lose_credentials_and_secret_parameters() -> None:
    assert redact_url("http://user:SECRET@host:8080/v1?api_key=k&model=m") == "http://host:8080/v1?api_key=***&model=m"
    text = "cannot reach https://a:b@llm.example/v1?token=t (refused); also wss://x:y@q/z"
    assert redact_text(text) == "cannot reach https://llm.example/v1?token=*** (refused); also wss://q/z"
    error = RegistryError("http://u:pw@r.example/things: down", url="http://u:pw@r.example/things")
    assert "pw" not in str(error) and error.url == "http://r.example/things"


def test_junit_never_holds_a_password() -> None:
    from lmos_studio.model import RoutingTest

    test = RoutingTest(query="hello", expect_agent="a")
    outcome = TestOutcome(test, "", "", "", 0.0, (), 0.0, error="POST http://user:SECRET@llm/v1 failed")
    assert "SECRET" not in junit_xml([outcome])


def test_markdown_from_designs_is_escaped() -> None:
    assert escape("[click](https://evil) **x** :red[y] $z$ <b>") == (
        "\\[click\\](https\\://evil) \\*\\*x\\*\\* \\:red\\[y\\] \\$z\\$ \\<b\\>"
    )
    assert escape("- item") == "\\- item" and escape("# title") == "\\# title" and escape("1. one") == "1\\. one"
    assert escape("billing-agent-stable v1.0.0") == "billing-agent-stable v1.0.0"
    assert escape("two\nlines") == "two lines"


def test_markdown_code_spans_hold_any_text() -> None:
    """Names shown as inline code (the Designer's selection panel): a backtick in one must not end the span."""
    from lmos_studio.markdown import code

    assert code("default/billing-agent") == "`default/billing-agent`"
    assert code("a`b **x** [l](u)") == "``a`b **x** [l](u)``"
    assert code("`x``") == "``` `x`` ```"
    assert code("two\nlines") == "`two lines`" and code("") == ""


@pytest.mark.parametrize(
    "command",
    [
        ("lint", "{pipe}"),
        ("export", "{pipe}", "--out", "{out}"),
        ("import", "{pipe}"),
        ("registry", "register", "{pipe}"),
        ("eval", "{acme}", "{pipe}"),
    ],
    ids=["lint", "export", "import", "register", "eval"],
)
def test_a_named_pipe_given_as_a_file_is_refused(command: tuple[str, ...], tmp_path: Path) -> None:
    """`lmos-studio lint PIPE` (export, import, registry register, eval's CSV) waited until something wrote to
    the pipe, then read what came as the file (and /dev/zero filled the memory): a file to read that is no
    regular file (a device, a pipe, a socket) is refused now, naming it, as the app's Open path refuses one."""
    from tests.conftest import ACME, run_cli

    pipe = tmp_path / "design.yaml"
    os.mkfifo(pipe)
    args = [a.format(pipe=pipe, out=tmp_path / "out", acme=ACME) for a in command]
    done = run_cli(*args, env={"LMOS_STUDIO_DATA_DIR": str(tmp_path)}, timeout=30)
    assert done.returncode == 2, done.stderr
    assert f"{pipe}: is not a regular file (a device, a pipe or a socket)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("route", "{acme}", "--channel", "{huge}", "hello"),
        ("canary", "{acme}", "--agent", "{huge}", "--out", "{out}"),
        ("export", "{acme}", "--out", "{out}", "--lmos-namespace", "{huge}"),
        ("whatif", "{acme}", "--remove-agent", "{huge}"),
        ("edit", "add-trust", "{acme}", "--caller", "{huge}", "--callee", "billing-agent-stable", "--out", "{out}"),
    ],
    ids=["route", "canary", "export", "whatif", "edit"],
)
def test_a_huge_name_given_on_the_command_line_is_named_cut(command: tuple[str, ...], tmp_path: Path) -> None:
    """`route --channel <100 000 characters>` (canary --agent, export --lmos-namespace, whatif, edit) refused it
    repeating it whole: a 100 KB message. A name or value the user gave is named cut to 80 characters."""
    from tests.conftest import ACME, run_cli

    huge = "x" * 100_000
    args = [a.format(acme=ACME, huge=huge, out=tmp_path / "out.yaml") for a in command]
    done = run_cli(*args, env={"LMOS_STUDIO_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2, done.stderr[:500]
    assert len(done.stderr) < 2000 and "x" * 80 + "…" in done.stderr, done.stderr[:500]
