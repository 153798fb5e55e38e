"""Bazel's downloader is the only downloader: a lock's canonical URLs are served by a mirror
named in a downloader config, and a blocked host gets rules_torch's download error.

Bazel 7 spells the flag --experimental_downloader_config (Bazel 8: --downloader_config). Its
`rewrite` keeps the original URL's scheme, so the lock here names an http:// host that does
not exist and the mirror is a local HTTP server.
"""

import functools
import http.server
import threading

import pytest
from harness import fake_torch

HOST = "wheels.example.invalid"
FLAG = "--experimental_downloader_config"

TEST = """\
import torch

print("imported", torch.__version__, "from", torch.__file__)
"""


class _Mirror(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mirror(workspace_factory):
    ws = workspace_factory("mirrors")
    handler = functools.partial(type("Handler", (_Mirror,), {"requests": []}), directory=str(ws.root / "wheels"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ws.write("BUILD.bazel", 'load("@rules_torch//torch:defs.bzl", "torch_py_test")\n\ntorch_py_test(name = "t", srcs = ["t.py"], deps = ["@torch//:torch"])\n')
    ws.write("t.py", TEST)
    entries = [ws.add_wheel(wheel) for wheel in fake_torch("cpu", "linux_x86_64", version="2.5.2")]
    for entry in entries:
        entry["url"] = f"http://{HOST}/whl/cpu/{entry['filename']}"
    ws.write_lock({("cpu", "linux_x86_64"): entries})
    ws.write("mirror.cfg", f"rewrite {HOST}/whl/cpu/(.*) 127.0.0.1:{server.server_port}/$1\n")
    ws.write("blocked.cfg", f"block {HOST}\n")
    ws.write_module('torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "cpu")\nuse_repo(torch, "torch")\n')
    ws.bazel("clean", "--expunge")
    yield ws, handler.func.requests
    server.shutdown()
    server.server_close()


def test_blocked_host_gives_download_error(mirror):
    ws, _ = mirror
    result = ws.bazel("build", "//:t", f"{FLAG}=blocked.cfg")
    assert result.returncode != 0, result.stdout[-4000:]
    assert "rules_torch: cannot download torch-2.5.2+cpu" in result.stdout, result.stdout[-4000:]
    assert "Bazel 7: --experimental_downloader_config" in result.stdout, result.stdout[-4000:]


def test_mirror_serves_the_lock_urls(mirror):
    ws, requests = mirror
    # No repository cache: every wheel must really come through the mirror.
    result = ws.bazel("test", "//:t", f"{FLAG}=mirror.cfg", "--repository_cache=", "--test_output=all", "--nocache_test_results")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "imported 2.5.2+cpu" in result.stdout, result.stdout[-4000:]
    assert sorted(requests) == sorted(f"/{p.name}" for p in (ws.root / "wheels").iterdir()), requests
