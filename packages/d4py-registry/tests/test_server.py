"""d4py registry serve: a real server process on a free loopback port, used with --registry URL."""

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from conftest import WORKFLOWS

import d4py_registry
from d4py_registry.errors import Unauthorized
from d4py_registry.remote import RemoteStore

TOKEN = "s3cret-token"


def start_server(tmp_path, *options):
    """Start a server on port 0 (the OS picks a free one) and read the URL it prints; the caller stops it."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "d4py",
            "registry",
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "served.sqlite"),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "D4PY_TEST_MARKER": str(tmp_path / "imports.txt")},
    )
    line = server.stdout.readline()  # blocks until the server listens, or ends
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not found:
        server.kill()
        pytest.fail(f"the server did not start: {line}{server.communicate()[1]}")
    return server, found.group(0)


def stop(server):
    server.terminate()  # by PID; nothing else is left: the server is one process
    server.wait(timeout=30)
    server.stdout.close()
    server.stderr.close()


@pytest.fixture
def served(tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    server, url = start_server(tmp_path, "--token-file", str(tmp_path / "token"))
    yield server, url
    stop(server)
    assert server.returncode is not None


def test_the_same_store_over_http_with_a_token_for_writes(served, cli, tmp_path):
    _, url = served
    assert url.startswith("http://127.0.0.1:")  # loopback unless told otherwise
    writer = {"D4PY_REGISTRY_TOKEN": TOKEN}
    added = cli("registry", "add", "textstats.py", "--version", "2.0", "--registry", url, env=writer)
    assert added.returncode == 0, added.stderr
    found = cli("registry", "search", "capitals", "--registry", url)
    assert found.stdout.startswith("textstats.shout@2.0  function")
    typed = json.loads(cli("registry", "search", "--produces", "int", "--json", "--registry", url).stdout)
    assert [e["name"] for e in typed] == ["graph", "word_length"]
    assert cli("registry", "versions", "textstats.graph", "--registry", url).stdout.startswith("2.0\t")
    cli("registry", "get", "textstats.CountWords", "-o", str(tmp_path / "copy.py"), "--registry", url)
    assert (tmp_path / "copy.py").read_bytes() == (WORKFLOWS / "textstats.py").read_bytes()
    assert d4py_registry.load("textstats.shout@2.0", registry=url)("ok") == "OK"
    removed = cli("registry", "remove", "textstats.shout", "--registry", url, env=writer)
    assert removed.stdout == "removed textstats.shout@2.0\n"
    gone = cli("registry", "show", "textstats.shout", "--registry", url)
    assert gone.returncode == 2 and "nothing is registered as textstats.shout" in gone.stderr


def test_writes_without_the_token_are_refused(served, cli, tmp_path):
    _, url = served
    (tmp_path / "wrong").write_text("guess")
    for refused in (
        cli("registry", "add", "textstats.py", "--registry", url),
        cli("registry", "add", "textstats.py", "--registry", url, "--token-file", str(tmp_path / "wrong")),
        cli("registry", "remove", "textstats.graph", "--registry", url),
    ):
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: writing to this registry needs its token: set D4PY_REGISTRY_TOKEN")
    assert cli("registry", "search", "--json", "--registry", url).stdout.strip() == "[]"


def test_a_server_without_a_token_file_is_read_only(tmp_path):
    server, url = start_server(tmp_path)
    try:
        with pytest.raises(Unauthorized, match="read-only"):
            RemoteStore(url, token="anything").remove("textstats.graph")
    finally:
        stop(server)


def test_the_server_never_imports_what_it_stores(served, cli, tmp_path):
    server, url = served
    marker = {"D4PY_TEST_MARKER": str(tmp_path / "imports.txt"), "D4PY_REGISTRY_TOKEN": TOKEN}
    assert cli("registry", "add", "marked.py", "--registry", url, env=marker).returncode == 0
    cli("registry", "show", "marked.Echo", "--registry", url)
    cli("registry", "get", "marked.Echo", "--registry", url)
    importers = (tmp_path / "imports.txt").read_text().split()
    assert len(importers) == 1 and str(server.pid) not in importers  # only the client that added it


def test_malformed_entries_are_refused_with_400_and_a_reason(served):
    _, url = served
    body = {"entries": [{"namespace": "a", "name": "B", "ports": [{"direction": "up", "name": 1}]}], "source": ""}
    request = urllib.request.Request(f"{url}/entries", data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert "malformed" in json.loads(refused.value.read())["error"]
