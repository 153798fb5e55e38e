"""Index pages and the first-index proxy, without pip."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import fake_wheels
import pytest

from rules_torch.errors import IndexUnreachableError
from rules_torch.hashing import HashCache
from rules_torch.index import Fetcher, parse_links
from rules_torch.proxy import FirstIndexProxy

PAGE = """<!DOCTYPE html><html><head><base href="https://files.example/dist/"></head><body>
<a href="torch-2.5.1%2Bcu118-cp311-cp311-linux_x86_64.whl#sha256=ABCDEF" data-requires-python="&gt;=3.9"
   data-dist-info-metadata="sha256=0123">torch-2.5.1+cu118-cp311-cp311-linux_x86_64.whl</a>
<a href="/other/torch-2.5.0-cp311-none-macosx_11_0_arm64.whl" data-yanked="">torch-2.5.0</a>
<a href="torch-2.5.1.tar.gz#sha256=99">torch-2.5.1.tar.gz</a>
<a>no href</a>
</body></html>"""


def test_parse_links_keeps_wheels_with_their_attributes() -> None:
    files = parse_links(PAGE, "https://index.example/simple/torch/")
    assert [f.filename for f in files] == [
        "torch-2.5.1+cu118-cp311-cp311-linux_x86_64.whl",
        "torch-2.5.0-cp311-none-macosx_11_0_arm64.whl",
    ]
    first, second = files
    assert first.url == "https://files.example/dist/torch-2.5.1%2Bcu118-cp311-cp311-linux_x86_64.whl"
    assert first.sha256 == "abcdef"
    assert first.requires_python == ">=3.9"
    assert first.metadata == "sha256=0123"
    assert first.yanked is None
    assert second.url == "https://files.example/other/torch-2.5.0-cp311-none-macosx_11_0_arm64.whl"
    assert second.sha256 is None
    assert second.yanked == ""
    assert first.project == "torch"
    assert first.version == "2.5.1+cu118"


@pytest.mark.parametrize("status", [403, 404, 410])
def test_absent_statuses_mean_project_not_on_index(routes, status: int) -> None:
    base, table = routes
    table["/simple/torch/"] = (status, b"")
    assert Fetcher(timeout=5).project_page(base + "/simple", "torch") is None


def test_server_errors_are_not_mistaken_for_absence(routes) -> None:
    base, table = routes
    table["/simple/torch/"] = (500, b"")
    with pytest.raises(IndexUnreachableError, match=r"cannot read .*/simple/torch/: HTTP 500"):
        Fetcher(timeout=5).project_page(base + "/simple", "torch")


def test_file_index_missing_project_is_absent(tmp_path: Path) -> None:
    (tmp_path / "simple").mkdir()
    assert Fetcher(timeout=5).project_page((tmp_path / "simple").as_uri(), "Torch_Vision") is None


def _proxy(urls: fake_wheels.IndexUrls, tmp_path: Path, **kwargs) -> FirstIndexProxy:
    settings = {"index_url": urls.pytorch, "extra_index_urls": [urls.pypi], "find_links": [], **kwargs}
    return FirstIndexProxy(Fetcher(timeout=5), HashCache(tmp_path / "cache", timeout=5), **settings)


def _page(proxy: FirstIndexProxy, variant: str, project: str) -> str:
    with urllib.request.urlopen(proxy.index_url(variant) + project + "/") as response:
        return response.read().decode()


def test_first_index_wins_per_project(urls, tmp_path: Path) -> None:
    with _proxy(urls, tmp_path) as proxy:
        # filelock is on the variant's index (3.13.1) and on "PyPI" (3.13.1, 3.16.1):
        # only the variant index's copy may be offered.
        filelock = _page(proxy, "cu121", "filelock")
        assert "filelock-3.13.1" in filelock
        assert "3.16.1" not in filelock
        assert "/whl/filelock-3.13.1" in proxy.project_files("cu121", "filelock")[1][0].url
        # mpmath is only on "PyPI": it comes from there.
        source, files = proxy.project_files("cu121", "mpmath")
        assert source == urls.pypi
        assert [f.filename for f in files] == ["mpmath-1.3.0-py3-none-any.whl"]


def test_other_variants_builds_are_never_offered(urls, tmp_path: Path) -> None:
    # The root index lists every variant; a cu121 cell must only see cu121 (and unlabelled) builds.
    with _proxy(urls, tmp_path, index_url=urls.pytorch_root) as proxy:
        versions = {f.version for f in proxy.project_files("cu121", "torch")[1]}
    assert "2.5.1+cu121" in versions
    assert "2.5.1" in versions  # the unlabelled aarch64/macOS CPU wheels cannot be told apart
    assert not {v for v in versions if "+" in v} - {"2.5.1+cu121"}


def test_find_links_add_candidates_to_the_winning_index(urls, indexes, tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    extra = "filelock-3.99.0-py3-none-any.whl"
    (links / extra).write_bytes(b"not read by the proxy")
    with _proxy(urls, tmp_path, find_links=[links.as_uri()]) as proxy:
        page = _page(proxy, "cpu", "filelock")
    assert "filelock-3.13.1" in page
    assert extra in page
    assert "3.16.1" not in page


def test_unreadable_first_index_fails_instead_of_falling_through(routes, urls, tmp_path: Path) -> None:
    base, table = routes
    table["/cpu/filelock/"] = (500, b"")
    with _proxy(urls, tmp_path, index_url=base + "/{variant}") as proxy:
        with pytest.raises(urllib.error.HTTPError) as response:
            _page(proxy, "cpu", "filelock")
        assert response.value.code == 502
        assert "HTTP 500" in str(proxy.errors("cpu")[0])


def test_remote_files_are_relayed_and_hashed_on_the_way(server, indexes, urls, tmp_path: Path) -> None:
    served = indexes.urls(server.url)
    name = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    with _proxy(served, tmp_path, index_url=served.pytorch_nohash) as proxy:
        page = _page(proxy, "cpu", "torch")
        link = next(
            part.split('"')[0] for part in page.split('href="')[1:] if "linux_x86_64" in part and "cp311" in part
        )
        assert link.startswith(proxy.base_url + "/files/cpu/")
        with urllib.request.urlopen(link) as response:
            body = response.read()
        assert proxy.origin(link) == f"{server.url}/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl"
        assert proxy.hashes.lookup(proxy.origin(link)) == indexes.sha256(name)
    assert body == indexes.wheels[name].read_bytes()
    assert server.count(name) == 1


def test_relayed_wheel_that_contradicts_the_index_hash_is_an_error(routes, urls, tmp_path: Path) -> None:
    base, table = routes
    name = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl"
    table["/cpu/torch/"] = (200, f'<a href="/files/{name}#sha256={"0" * 64}">{name}</a>'.encode())
    table[f"/files/{name}"] = (200, b"changed content")
    with _proxy(urls, tmp_path, index_url=base + "/{variant}") as proxy:
        page = _page(proxy, "cpu", "torch")
        link = page.split('href="')[1].split("#")[0]
        with urllib.request.urlopen(link) as response:
            assert response.read() == b"changed content"
        errors = [str(e) for e in proxy.errors("cpu")]
    assert errors == [
        f"{base}/files/{name}: the index says sha256 {'0' * 64} but the file has "
        f"{hashlib.sha256(b'changed content').hexdigest()}. The index or a mirror serves a changed file; "
        "do not lock it until that is resolved."
    ]
