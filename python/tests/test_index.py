"""Index pages and the order of a cell's sources, without a resolver."""

from __future__ import annotations

from pathlib import Path

import fake_wheels
import pytest

from rules_torch.errors import IndexUnreachableError
from rules_torch.index import Fetcher, parse_links
from rules_torch.resolve import IndexSources

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


def _sources(urls: fake_wheels.IndexUrls, **kwargs) -> IndexSources:
    settings = {"index_url": urls.pytorch, "extra_index_urls": [urls.pypi], "find_links": [], **kwargs}
    return IndexSources(Fetcher(timeout=5), **settings)


def test_first_index_wins_per_project(urls) -> None:
    sources = _sources(urls)
    # filelock is on the variant's index (3.13.1) and on "PyPI" (3.13.1, 3.16.1): only the
    # variant index's copy counts (what uv's first-index strategy takes, see test_lock.py).
    source, files = sources.project_files("cu121", "filelock")
    assert source == urls.pytorch.format(variant="cu121")
    assert [f.version for f in files] == ["3.13.1"]
    assert "/whl/filelock-3.13.1" in files[0].url
    # mpmath is only on "PyPI": it comes from there.
    source, files = sources.project_files("cu121", "mpmath")
    assert source == urls.pypi
    assert [f.filename for f in files] == ["mpmath-1.3.0-py3-none-any.whl"]


def test_uv_searches_the_indexes_in_the_locks_order(urls) -> None:
    # uv ranks --extra-index-url above --index-url; --index ... --default-index keeps the order.
    args = _sources(urls, extra_index_urls=[urls.pypi, urls.cu130_nolabel]).uv_args("cu121")
    assert args == [
        "--index-strategy", "first-index",
        "--index", urls.pytorch.format(variant="cu121"),
        "--index", urls.pypi,
        "--default-index", urls.cu130_nolabel,
    ]  # fmt: skip
    assert "--index-url" not in args and "--extra-index-url" not in args


def test_a_variant_without_a_local_directory_has_no_index(urls) -> None:
    args = _sources(urls, extra_index_urls=[]).uv_args("cu124")
    assert args == ["--index-strategy", "first-index", "--no-index"]


def test_other_variants_builds_are_found_to_be_excluded(urls) -> None:
    # The root index lists every variant; a cu121 cell must only see cu121 (and unlabelled) builds.
    sources = _sources(urls, index_url=urls.pytorch_root)
    versions = {f.version for f in sources.project_files("cu121", "torch")[1]}
    assert "2.5.1+cu121" in versions
    assert "2.5.1" in versions  # the unlabelled aarch64/macOS CPU wheels cannot be told apart
    assert not {v for v in versions if "+" in v} - {"2.5.1+cu121"}
    excluded = sources.other_variants_builds("cu121", "torch")
    assert {"2.5.1+cu118", "2.5.1+cpu", "2.5.1+rocm6.2"} <= excluded
    assert not {v for v in excluded if v.endswith("+cu121") or "+" not in v}


def test_find_links_add_candidates_to_the_winning_index(urls, indexes, tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    extra = "filelock-3.99.0-py3-none-any.whl"
    (links / extra).write_bytes(b"not read")
    files = _sources(urls, find_links=[links.as_uri()]).project_files("cpu", "filelock")[1]
    assert {f.filename for f in files} == {"filelock-3.13.1-py3-none-any.whl", extra}
