"""Locks, valid and invalid, that both lock validators must judge alike, and the command that
re-creates a lock, which both languages must spell alike.

The module extension's validator (torch/private/lock/lock.bzl, tests/starlark/lock_tests.bzl) and the
lock tool's (python/rules_torch/lockfile.py, python/tests/test_lock_corpus.py) read every case of
LOCK_CORPUS: `lock` (a dict, JSON-encoded) or `text` (the file as is); `error` is None for a valid
lock, else a fragment of both validators' messages, or None with `error_starlark` and `error_python`
where they word it apart. The extension's validator checks what the extension needs (the shape, each
wheel's file name, URL scheme and sha256); a lock only the lock tool refuses (`error_python` alone:
unknown fields, unsorted lists, invalid versions) says in `extension` what the extension does with it,
and the extension's test checks that it accepts it as written.

RELOCK_COMMANDS: a request, the lock's path and the command that re-creates it, as the lock tool
writes it in the files it generates (lock_command) and the extension prints it (relock_command).

Plain literals only: Python reads this file with ast.literal_eval.
"""

LOCK_CORPUS = [
    {
        "name": "valid_minimal",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
    },
    {
        "name": "valid_multi_cell",
        "doc": "several variants, platforms and Pythons; abi3, compressed tags, py2.py3, a percent-encoded local version, extras, file:// and #fragment URLs, request.with",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "filelock-3.13.1-py3-none-any.whl", "name": "filelock", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.pythonhosted.org/packages/ab/cd/filelock-3.13.1-py3-none-any.whl", "version": "3.13.1"},
                        {"extras": [], "filename": "numpy-2.1.0-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", "name": "numpy", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.example/numpy-2.1.0-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "version": "2.1.0"},
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
                "cpu_linux_x86_64_cp312": {
                    "platform": "linux_x86_64",
                    "python": "3.12",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "filelock-3.13.1-py3-none-any.whl", "name": "filelock", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.pythonhosted.org/packages/ab/cd/filelock-3.13.1-py3-none-any.whl", "version": "3.13.1"},
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
                "cpu_macos_arm64_cp311": {
                    "platform": "macos_arm64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "filelock-3.13.1-py3-none-any.whl", "name": "filelock", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.pythonhosted.org/packages/ab/cd/filelock-3.13.1-py3-none-any.whl", "version": "3.13.1"},
                        {"extras": [], "filename": "torch-2.5.1-cp311-none-macosx_11_0_arm64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1-cp311-none-macosx_11_0_arm64.whl", "version": "2.5.1"},
                    ],
                },
                "cu121_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cu121",
                    "wheels": [
                        {"extras": ["cublas", "cudart"], "filename": "cuda_toolkit-12.1.0-py2.py3-none-any.whl", "name": "cuda-toolkit", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "file:///srv/wheels/cuda_toolkit-12.1.0-py2.py3-none-any.whl", "version": "12.1.0"},
                        {"extras": [], "filename": "filelock-3.13.1-py3-none-any.whl", "name": "filelock", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.pythonhosted.org/packages/ab/cd/filelock-3.13.1-py3-none-any.whl", "version": "3.13.1"},
                        {"extras": [], "filename": "nvidia_cuda_runtime_cu12-12.1.105-py3-none-manylinux1_x86_64.whl", "name": "nvidia-cuda-runtime-cu12", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://pypi.example/nvidia_cuda_runtime_cu12-12.1.105-py3-none-manylinux1_x86_64.whl", "version": "12.1.105"},
                        {"extras": [], "filename": "torch-2.5.1+cu121-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cu121/torch-2.5.1%2Bcu121-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cu121"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64", "macos_arm64"],
                "pythons": ["3.11", "3.12"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": "0.20.1",
                "variants": ["cpu", "cu121"],
                "with": ["numpy"],
            },
            "schema_version": 1,
        },
        "error": None,
    },
    {
        "name": "valid_imported_from_uv",
        "doc": "request.from_uv; request.torch null: the variants pin different releases",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.13.0%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.13.0+cpu"},
                    ],
                },
                "cu130_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cu130",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.example/torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl", "version": "2.14.1"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": [],
                "find_links": [],
                "index_url": "",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": None,
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu", "cu130"],
                "from_uv": {"args": ["--from-uv", "uv.lock", "--variant", "gpu=cu130"], "extras": {"cpu": "cpu", "cu130": "gpu"}, "uv_lock": "uv.lock", "uv_lock_sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
            },
            "schema_version": 1,
        },
        "error": None,
    },
    {
        "name": "valid_imported_from_pylock",
        "doc": "request.from_pylock: the files' sha256 by path; request.torch null: the variants pin different releases",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.13.0%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.13.0+cpu"},
                    ],
                },
                "cu130_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cu130",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "file:///opt/wheels/torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl", "version": "2.14.1"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": [],
                "find_links": [],
                "index_url": "",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": None,
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu", "cu130"],
                "from_pylock": {"args": ["--from-pylock", "pylock.cpu.toml", "--from-pylock", "pylock.cu130.toml"], "files": {"pylock.cpu.toml": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "pylock.cu130.toml": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},
            },
            "schema_version": 1,
        },
        "error": None,
    },
    {
        "name": "bad_json",
        "text": "{not json",
        "error": "not valid JSON",
    },
    {
        "name": "not_an_object",
        "text": "[1, 2]",
        "error": None,
        "error_starlark": "not valid JSON (or not a JSON object)",
        "error_python": "the lock must be a JSON object, found a list",
    },
    {
        "name": "wrong_schema_version",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 2,
        },
        "error": "reads schema_version 1",
    },
    {
        "name": "missing_schema_version",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
        },
        "error": None,
        "error_starlark": "has schema_version None",
        "error_python": "'schema_version' is missing",
    },
    {
        "name": "missing_request",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "schema_version": 1,
        },
        "error": "'request' must be an object",
    },
    {
        "name": "missing_request_field",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "request.index_url is missing",
    },
    {
        "name": "request_field_of_wrong_type",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": "cpu",
            },
            "schema_version": 1,
        },
        "error": "request.variants must be a list of strings",
    },
    {
        "name": "null_torch_not_imported",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": None,
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "request.torch must be a string",
    },
    {
        "name": "no_cells",
        "lock": {
            "cells": {},
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_starlark": "'cells' must be a non-empty object",
        "error_python": "'cells' is empty",
    },
    {
        "name": "bad_sha256",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "ABC", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "must be 64 lowercase hex digits",
    },
    {
        "name": "sha256_with_newline",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "must be 64 lowercase hex digits",
    },
    {
        "name": "missing_sha256",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_starlark": "no sha256",
        "error_python": "'sha256' is missing",
    },
    {
        "name": "missing_extras",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "'extras' is missing",
    },
    {
        "name": "url_not_http_or_file",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "ftp://files.example/torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "must start with https://, http:// or file://",
    },
    {
        "name": "url_names_another_file",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.example/torch-2.5.0-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "the url's file name 'torch-2.5.0-cp311-cp311-linux_x86_64.whl' is not the filename",
    },
    {
        "name": "wheel_python_does_not_fit",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp310-cp310-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.example/torch-2.5.1+cpu-cp310-cp310-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "its tags cp310-cp310 do not fit the cell's Python 3.11",
    },
    {
        "name": "wheel_platform_does_not_fit",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1-cp311-none-macosx_11_0_arm64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1-cp311-none-macosx_11_0_arm64.whl", "version": "2.5.1"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "its platform tag macosx_11_0_arm64 does not fit the cell's platform linux_x86_64",
    },
    {
        "name": "name_not_normalized",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "filelock-3.13.1-py3-none-any.whl", "name": "FileLock", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.pythonhosted.org/packages/ab/cd/filelock-3.13.1-py3-none-any.whl", "version": "3.13.1"},
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "name must be a normalized project name",
    },
    {
        "name": "duplicate_wheel",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_starlark": "wheel 'torch' is listed twice",
        "error_python": "torch listed more than once",
    },
    {
        "name": "no_torch_wheel",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "filelock-3.13.1-py3-none-any.whl", "name": "filelock", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.pythonhosted.org/packages/ab/cd/filelock-3.13.1-py3-none-any.whl", "version": "3.13.1"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "has no 'torch' wheel",
    },
    {
        "name": "no_wheels",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "must be a non-empty list",
    },
    {
        "name": "bad_variant",
        "lock": {
            "cells": {
                "cu 118_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cu 118",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cu 118"],
            },
            "schema_version": 1,
        },
        "error": "variant 'cu 118' is not a variant (valid forms: cpu, cu<NNN>",
    },
    {
        "name": "variant_with_newline",
        "lock": {
            "cells": {
                "cpu\n_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu\n",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu\n"],
            },
            "schema_version": 1,
        },
        "error": "variant 'cpu\n' is not a variant (valid forms: cpu, cu<NNN>",
    },
    {
        "name": "bad_python",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311; rm": {
                    "platform": "linux_x86_64",
                    "python": "3.11; rm",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11; rm"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "python '3.11; rm' is not a major.minor version",
    },
    {
        "name": "python_with_newline",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311\n": {
                    "platform": "linux_x86_64",
                    "python": "3.11\n",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11\n"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "python '3.11\n' is not a major.minor version",
    },
    {
        "name": "unknown_platform",
        "lock": {
            "cells": {
                "cpu_solaris_sparc_cp311": {
                    "platform": "solaris_sparc",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["solaris_sparc"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "unknown platform 'solaris_sparc'",
    },
    {
        "name": "key_does_not_match_cell",
        "lock": {
            "cells": {
                "cu118_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": "(expected 'cpu_linux_x86_64_cp311')",
    },
    {
        "name": "unknown_top_level_field",
        "doc": "a field the schema does not have, at the top",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "generator": "by hand",
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "unknown top-level field 'generator'",
        "extension": "accepts it: nothing reads the field",
    },
    {
        "name": "unknown_request_field",
        "doc": "a field the schema does not have, in the request",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "python_platform": "x86_64-manylinux_2_28",
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "request: unknown field 'python_platform'",
        "extension": "accepts it: the commands it prints (re-lock, re-import) leave the field out",
    },
    {
        "name": "unknown_cell_field",
        "doc": "a field the schema does not have, in a cell",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "note": "pinned by hand",
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "cells.cpu_linux_x86_64_cp311: unknown field 'note'",
        "extension": "accepts it: nothing reads the field",
    },
    {
        "name": "unknown_wheel_field",
        "doc": "a field the schema does not have, in a wheel",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "requires_python": ">=3.9", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "unknown field 'requires_python'",
        "extension": "accepts it: the spoke fetches the wheel by url and sha256 and reads no other field",
    },
    {
        "name": "wheels_not_sorted",
        "doc": "a cell's wheels out of name order",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                        {"extras": [], "filename": "filelock-3.13.1-py3-none-any.whl", "name": "filelock", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://files.pythonhosted.org/packages/ab/cd/filelock-3.13.1-py3-none-any.whl", "version": "3.13.1"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "cells.cpu_linux_x86_64_cp311.wheels must be sorted by name",
        "extension": "accepts it: the spoke fetches and installs the same wheels, in the lock's order",
    },
    {
        "name": "extras_not_sorted",
        "doc": "a wheel's extras out of order",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": ["cudart", "cublas"], "filename": "cuda_toolkit-12.1.0-py2.py3-none-any.whl", "name": "cuda-toolkit", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://pypi.example/cuda_toolkit-12.1.0-py2.py3-none-any.whl", "version": "12.1.0"},
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "(cuda-toolkit): extras must be sorted",
        "extension": "accepts it: nothing reads a wheel's extras",
    },
    {
        "name": "wheel_version_invalid",
        "doc": "a wheel's version that is no version (PEP 440)",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "latest"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "(torch): version \"latest\" is not a valid version",
        "extension": "accepts it: a wheel's version is read only where request.torch is null (an imported lock), where the tag's torch_version is compared with it",
    },
    {
        "name": "wheel_version_not_the_files",
        "doc": "a wheel's version that is not its file's",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.0+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "filename 'torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl' is for version 2.5.1+cpu, not 2.5.0+cpu",
        "extension": "accepts it: the spoke installs the file, whatever the version says",
    },
    {
        "name": "request_version_with_local_label",
        "doc": "a requested torch version with a local label",
        "lock": {
            "cells": {
                "cpu_linux_x86_64_cp311": {
                    "platform": "linux_x86_64",
                    "python": "3.11",
                    "variant": "cpu",
                    "wheels": [
                        {"extras": [], "filename": "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", "name": "torch", "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "url": "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl", "version": "2.5.1+cpu"},
                    ],
                },
            },
            "request": {
                "extra_index_urls": ["https://pypi.org/simple"],
                "find_links": [],
                "index_url": "https://download.pytorch.org/whl/{variant}",
                "platforms": ["linux_x86_64"],
                "pythons": ["3.11"],
                "torch": "2.5.1+cpu",
                "torchaudio": None,
                "torchvision": None,
                "variants": ["cpu"],
            },
            "schema_version": 1,
        },
        "error": None,
        "error_python": "request.torch: '2.5.1+cpu' must be a version without a local label",
        "extension": "accepts it: request.torch is read only to compare with a tag's torch_version (2.5.1 finds the lock stale) and for the lock commands it prints, whose --torch 2.5.1+cpu the lock tool refuses, naming the fix",
    },
]

RELOCK_COMMANDS = [
    {
        "name": "one_cell",
        "doc": "what the lock tool writes by default",
        "request": {
            "extra_index_urls": ["https://pypi.org/simple"],
            "find_links": [],
            "index_url": "https://download.pytorch.org/whl/{variant}",
            "platforms": ["linux_x86_64"],
            "pythons": ["3.11"],
            "torch": "2.5.1",
            "torchaudio": None,
            "torchvision": None,
            "variants": ["cpu"],
        },
        "output": "third_party/torch.lock.json",
        "command": "bazel run @rules_torch//python:lock -- --torch 2.5.1 --variants cpu --platforms linux_x86_64 --python 3.11 --index-url 'https://download.pytorch.org/whl/{variant}' --extra-index-url https://pypi.org/simple --output third_party/torch.lock.json",
    },
    {
        "name": "everything",
        "doc": "every option; lists sorted (variants and Pythons by their numbers); no extra index written as an empty one; words quoted for the shell",
        "request": {
            "extra_index_urls": [],
            "find_links": ["/srv/wheels", "/srv/team's wheels"],
            "index_url": "https://mirror.example/whl/{variant}",
            "platforms": ["macos_arm64", "linux_x86_64"],
            "pythons": ["3.10", "3.9"],
            "torch": "2.5.1",
            "torchaudio": "2.5.1",
            "torchvision": "0.20.1",
            "variants": ["cu121", "cpu", "rocm6.2", "cu90"],
            "with": ["numpy", "numpy-quaternion<3"],
        },
        "output": "my locks/torch.lock.json",
        "command": "bazel run @rules_torch//python:lock -- --torch 2.5.1 --torchvision 0.20.1 --torchaudio 2.5.1 --with numpy --with 'numpy-quaternion<3' --variants cpu,cu90,cu121,rocm6.2 --platforms linux_x86_64,macos_arm64 --python 3.9,3.10 --index-url 'https://mirror.example/whl/{variant}' --extra-index-url '' --find-links /srv/wheels --find-links '/srv/team'\"'\"'s wheels' --output 'my locks/torch.lock.json'",
    },
]
