"""Unit tests of what the spoke reads from a torch wheel for C++ builds (cc.bzl's libtorch_facts)."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# buildifier: disable=bzl-visibility
load("//torch/private/repositories:libtorch_facts.bzl", "libtorch_facts")

_RECORD = """\
torch/__init__.py,sha256=x,1
torch/include/ATen/ATen.h,sha256=x,1
torch/lib/libc10.so,sha256=x,1
torch/lib/libgomp.so.1,sha256=x,1
torch/lib/libtorch.so,sha256=x,1
torch/lib/libtorch_cpu.so,sha256=x,1
torch/lib/libtorch_python.so,sha256=x,1
torch/lib/libtorchbind_test.so,sha256=x,1
torch/lib/libaoti_custom_ops.so,sha256=x,1
torch/lib/libtorch_cpu.a,sha256=x,1
torch/_C.cpython-311-x86_64-linux-gnu.so,sha256=x,1
torch.libs/libopenblas-abc123.so.0,sha256=x,1
torch-2.13.0+cpu.dist-info/RECORD,,
"""

def _facts_test(ctx):
    env = unittest.begin(ctx)
    facts = libtorch_facts(_RECORD, "set_target_properties(torch PROPERTIES\n    CXX_STANDARD 20\n)\n")
    asserts.equals(env, [
        "torch.libs/libopenblas-abc123.so.0",
        "torch/lib/libc10.so",
        "torch/lib/libgomp.so.1",
        "torch/lib/libtorch.so",
        "torch/lib/libtorch_cpu.so",
    ], facts.libraries)
    asserts.equals(env, "torch/include", facts.include)
    asserts.equals(env, "c++20", facts.cxx_standard)
    asserts.equals(env, ["_GLIBCXX_USE_CXX11_ABI=1"], facts.defines)
    asserts.equals(env, "torch/lib/libtorch_python.so", facts.python_library)
    return unittest.end(env)

def _old_abi_test(ctx):
    env = unittest.begin(ctx)
    cmake = 'set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=0")\nset_target_properties(torch PROPERTIES CXX_STANDARD 17)\n'
    facts = libtorch_facts(_RECORD, cmake)
    asserts.equals(env, ["_GLIBCXX_USE_CXX11_ABI=0"], facts.defines)
    asserts.equals(env, "c++17", facts.cxx_standard)
    return unittest.end(env)

def _no_headers_test(ctx):
    env = unittest.begin(ctx)
    facts = libtorch_facts("torch/__init__.py,sha256=x,1\n", "")
    asserts.equals(env, "", facts.include)
    asserts.equals(env, [], facts.libraries)
    asserts.equals(env, "", facts.python_library)
    return unittest.end(env)

facts_test = unittest.make(_facts_test)
old_abi_test = unittest.make(_old_abi_test)
no_headers_test = unittest.make(_no_headers_test)

def cc_test_suite(name):
    unittest.suite(name, facts_test, old_abi_test, no_headers_test)
