"""Unit tests of torch/private/repositories/metadata.bzl: Bazel 8/9 metadata, guarded by feature."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# buildifier: disable=bzl-visibility
load("//torch/private/repositories:metadata.bzl", "reproducible_extension", "reproducible_repo")

def _metadata(**kwargs):
    return kwargs

def _extension_metadata_test(ctx):
    env = unittest.begin(ctx)
    mctx = struct(extension_metadata = _metadata)
    asserts.equals(
        env,
        {"reproducible": False, "root_module_direct_deps": ["torch"], "root_module_direct_dev_deps": ["torch_cpu"]},
        reproducible_extension(mctx, ["torch"], ["torch_cpu"], reproducible = False),
    )
    asserts.equals(env, True, reproducible_extension(mctx, [])["reproducible"])

    # A Bazel without extension_metadata gets None, never an error.
    asserts.equals(env, None, reproducible_extension(struct(), ["torch"]))
    return unittest.end(env)

def _repo_metadata_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, {"reproducible": True}, reproducible_repo(struct(repo_metadata = _metadata)))

    # Bazel before 8.3 has no repo_metadata: the rule returns None, as before.
    asserts.equals(env, None, reproducible_repo(struct()))
    return unittest.end(env)

extension_metadata_test = unittest.make(_extension_metadata_test)
repo_metadata_test = unittest.make(_repo_metadata_test)

def metadata_test_suite(name):
    unittest.suite(name, extension_metadata_test, repo_metadata_test)
