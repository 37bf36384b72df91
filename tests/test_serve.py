"""`glossary serve` in a subprocess on a free port: pages, live reload, errors, and refusals."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import term_text, terms, write_project
from glossary_build.serve import resolve_request

FILES = terms(
    alpha=term_text("Alpha", "First.", body="Before beta."),
    beta=term_text("Beta", "Second.", body="After alpha."),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the server")


def status(port: int) -> dict:
    return json.loads(request(port, "/__glossary/status")[2])


@pytest.fixture
def server(tmp_path):
    root = write_project(tmp_path / "project", FILES | {"secret.txt": "not for the web", "glossary.yaml": "title: T\n"})
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "glossary_build", "serve", "--src", str(root), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )

    def up():
        try:
            return request(port, "/")[0] == 200
        except OSError:
            return False

    wait_for(up)
    yield root, port, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_serves_pages_with_pretty_urls_and_the_live_script(server):
    root, port, _ = server
    code, headers, body = request(port, "/terms/alpha/")
    assert code == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1 id=\"term-title\">Alpha</h1>" in body
    assert b'<script src="/__glossary/live.js" defer></script>' in body
    assert request(port, "/terms/alpha")[1]["Location"] == "/terms/alpha/"
    assert request(port, "/terms/alpha/index.html")[0] == 200


def test_unknown_paths_get_the_sites_404_page(server):
    _, port, _ = server
    code, _, body = request(port, "/no/such/page")
    assert code == 404 and b"Page not found" in body


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/terms/%2e%2e/%2e%2e/secret.txt",
    "/..%5csecret.txt", "/terms%00/", "/.glossary-site.json", "/glossary.yaml", "/content/terms/alpha.md",
    "/secret.txt",
])
def test_nothing_outside_the_built_site_is_reachable(server, path):
    _, port, _ = server
    code, _, body = request(port, path)
    assert code in (400, 404)
    assert b"not for the web" not in body and b"title: Alpha" not in body


def test_foreign_host_headers_are_refused(server):
    _, port, _ = server
    assert request(port, "/", host="evil.example:80")[0] == 403
    assert request(port, "/", host=f"localhost:{port}")[0] == 200


def test_never_writes_into_the_project(server):
    root, port, _ = server
    assert not (root / "site").exists()


def test_edit_rebuilds_and_announces_a_new_version(server):
    root, port, _ = server
    version = status(port)["version"]
    events = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    events.request("GET", "/__glossary/events", headers={"Host": f"127.0.0.1:{port}"})
    stream = events.getresponse()
    first = [stream.readline() for _ in range(3)]
    assert first[0] == b"event: build\n" and json.loads(first[1][6:])["version"] == version

    (root / "content/terms/alpha.md").write_text(term_text("Alpha", "First.", body="Before beta, freshly edited."))
    announced = [stream.readline() for _ in range(3)]
    assert json.loads(announced[1][6:])["version"] > version
    assert b"freshly edited." in request(port, "/terms/alpha/")[2]
    events.close()


def test_a_broken_save_keeps_the_last_good_site_and_recovers(server):
    root, port, _ = server
    good = request(port, "/terms/alpha/")[2]
    (root / "content/terms/alpha.md").write_text("---\ntitle: Alpha\n---\nNo summary.\n")
    (error,) = wait_for(lambda: status(port)["errors"])
    assert error == (f"{root / 'content/terms/alpha.md'}:1: error: missing required key 'summary' "
                     "(for example `summary: A layer design that runs only a few experts per token.`)")
    assert request(port, "/terms/alpha/")[2] == good
    assert b"/__glossary/live.js" in request(port, "/index.html")[2]  # the overlay script is on every page
    (root / "content/terms/alpha.md").write_text(term_text("Alpha", "First.", body="Fixed now, beta."))
    wait_for(lambda: not status(port)["errors"])
    assert b"Fixed now, " in request(port, "/terms/alpha/")[2]


def test_editor_leftovers_do_not_rebuild(server):
    root, port, _ = server
    version = status(port)["version"]
    (root / "content/terms/.alpha.md.swp").write_bytes(b"\x00swap")
    (root / "content/terms/alpha.md~").write_text("backup")
    time.sleep(0.6)
    assert status(port)["version"] == version


def test_port_in_use_is_one_line_and_ctrl_c_stops_cleanly(server):
    root, port, process = server
    clash = subprocess.run(
        [sys.executable, "-m", "glossary_build", "serve", "--src", str(root), "--port", str(port)],
        capture_output=True, text=True, timeout=30,
    )
    assert clash.returncode == 1
    assert clash.stderr == f"Error: port {port} is in use; try --port {port + 1}\n"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in err and out.rstrip().endswith("Stopped.")


@pytest.mark.parametrize("path, expected", [
    ("/", (200, "index.html")),
    ("/terms/a/", (200, "terms/a/index.html")),
    ("/terms/a", (301, "/terms/a/")),
    ("/terms/a/index.html?x=1", (200, "terms/a/index.html")),
    ("/a%2fb", (400, "")),
    ("/a\\b", (400, "")),
    ("/.hidden", (404, "")),
    ("/terms/../index.html", (404, "")),
])
def test_resolve_request(path, expected):
    files = {"index.html": b"", "terms/a/index.html": b"", ".hidden": b""}
    assert resolve_request(path, files) == expected


def test_host_flag_warns(tmp_path):
    env = dict(os.environ)
    root = write_project(tmp_path / "p", FILES)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "glossary_build", "serve", "--src", str(root), "--port", str(port), "--host", "0.0.0.0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        wait_for(lambda: _up(port))
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert err.startswith("warning: binding to 0.0.0.0 makes the site reachable from other machines")


def _up(port):
    try:
        return request(port, "/")[0] == 200
    except OSError:
        return False


def test_rebuilds_in_memory_equal_a_fresh_build(tmp_path):
    from glossary_build.serve import LiveSite

    root = write_project(tmp_path / "p", FILES)
    live = LiveSite(root)
    live.rebuild()
    write_project(root, terms(alpha=term_text("Alpha", "New summary.", body="Before beta, again.")))
    live.rebuild()
    assert live.written < len(live.snapshot.files)
    fresh = LiveSite(root)
    fresh.rebuild()
    assert live.snapshot.files == fresh.snapshot.files


def test_the_servers_parallel_build_equals_a_single_process_build(tmp_path, monkeypatch):
    """Bodies and pages rendered on every core, as the server does, give the same site."""
    from glossary_build import parallel
    from glossary_build.serve import LiveSite

    root = write_project(tmp_path / "p", FILES)
    single = LiveSite(root)
    single.rebuild()
    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)
    monkeypatch.setattr(parallel, "default_workers", lambda: 2)
    spread = LiveSite(root)
    spread.rebuild()
    assert spread.snapshot.files == single.snapshot.files
    write_project(root, terms(alpha=term_text("Alpha", "New summary.", body="Before beta, again.")))
    spread.rebuild()
    single.rebuild()
    assert spread.snapshot.files == single.snapshot.files


def test_rebuilds_leave_the_cycle_collector_on(tmp_path):
    """It is kept out of a rebuild only: a server left without it would grow with every save."""
    import gc

    from glossary_build.serve import LiveSite

    root = write_project(tmp_path / "p", FILES)
    live = LiveSite(root)
    live.rebuild()
    assert gc.isenabled()
    live.settle()
    write_project(root, terms(alpha=term_text("Alpha", "First.", body="Before beta, and [[missing]].")))
    assert any(d.severity == "error" for d in live.rebuild())
    assert gc.isenabled()
    gc.unfreeze()
