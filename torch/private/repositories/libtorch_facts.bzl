"""What a cell's libtorch repository (libtorch_repo.bzl) reads from the torch wheel its spoke
downloaded (libtorch_facts, from the wheel's RECORD and `torch/share/cmake/Torch/TorchConfig.cmake`,
extracted alone: no interpreter runs):
- the shared libraries under `torch/lib/` (and auditwheel's `torch.libs/`): the ones to link;
- the C++ standard torch's CMake config requires (`CXX_STANDARD 20` -> `-std=c++20`);
- the C++11 ABI: the `-D_GLIBCXX_USE_CXX11_ABI=N` of the config's `TORCH_CXX_FLAGS` when it
  sets one (torch < 2.7 wheels); else 1: newer wheels are all built with the C++11 ABI and no
  longer record it (torch 2.13's `torch.compiled_with_cxx11_abi()` returns a constant True).
"""

# Libraries in torch/lib that are not libtorch: torch's Python binding (it needs libpython's
# symbols) and torch's own test fixtures.
_NOT_LIBTORCH = ["libtorch_python.so", "libaoti_custom_ops.so", "libbackend_with_compiler.so"]

def _is_shared_library(path):
    name = path.rpartition("/")[2]
    return name.endswith(".so") or ".so." in name

def libtorch_facts(record, cmake):
    """What C++ builds need to know of a torch wheel, from its RECORD and TorchConfig.cmake.

    Args:
      record: the text of the wheel's `.dist-info/RECORD`.
      cmake: the text of `torch/share/cmake/Torch/TorchConfig.cmake` ("" when absent).

    Returns:
      struct(libraries: the shared libraries to link, paths relative to site-packages, sorted;
      include: "torch/include" or "" when the wheel ships no headers; cxx_standard: "c++20";
      defines: ["_GLIBCXX_USE_CXX11_ABI=1"]; python_library: "torch/lib/libtorch_python.so", torch's
      Python binding, or "" when absent).
    """
    libraries = []
    python_library = ""
    include = ""
    for line in record.splitlines():
        path = line.split(",")[0]
        if path.startswith("torch/include/") and not include:
            include = "torch/include"
        directory, _, name = path.rpartition("/")
        if directory not in ("torch/lib", "torch.libs") or not _is_shared_library(path):
            continue
        if name == "libtorch_python.so":
            python_library = path
        if name in _NOT_LIBTORCH or "test" in name:
            continue
        libraries.append(path)
    standard = "17"
    abi = "1"
    for line in cmake.splitlines():
        words = [w for w in line.replace("(", " ").replace(")", " ").replace("\"", " ").replace("\t", " ").split(" ") if w]
        if len(words) == 2 and words[0] == "CXX_STANDARD" and words[1].isdigit():
            standard = words[1]
        for word in words:
            if word.startswith("-D_GLIBCXX_USE_CXX11_ABI=") and word[-1] in "01":
                abi = word[-1]
    return struct(
        libraries = sorted(libraries),
        include = include,
        cxx_standard = "c++" + standard,
        defines = ["_GLIBCXX_USE_CXX11_ABI=" + abi],
        python_library = python_library,
    )
