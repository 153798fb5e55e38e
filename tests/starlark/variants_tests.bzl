"""Unit tests of torch/private/lock/variants.bzl."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# buildifier: disable=bzl-visibility
load("//torch/private/lock:variants.bzl", "config_name", "cuda_needs", "pick_auto_variant")

def _config_name_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "cuda118", config_name("cu118"))
    asserts.equals(env, "cuda130", config_name("cu130"))
    asserts.equals(env, "cpu", config_name("cpu"))
    asserts.equals(env, "rocm6.2", config_name("rocm6.2"))
    return unittest.end(env)

def _auto_variant_test(ctx):
    env = unittest.begin(ctx)
    locked = ["cpu", "cu118", "cu121", "cu130"]
    asserts.equals(env, "cpu", pick_auto_variant("", locked))
    asserts.equals(env, "cu130", pick_auto_variant("580.65.06", locked))
    asserts.equals(env, "cu121", pick_auto_variant("550.54.14", locked))
    asserts.equals(env, "cu118", pick_auto_variant("470.82.01", locked))
    asserts.equals(env, "cpu", pick_auto_variant("390.1", locked))
    asserts.equals(env, "cpu", pick_auto_variant("garbage", locked))
    asserts.equals(env, "cu118", pick_auto_variant("", ["cu118"]))
    return unittest.end(env)

def _cuda_needs_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, struct(cuda = "13.0", min_driver = "580.65.06"), cuda_needs("cu130"))
    asserts.equals(env, struct(cuda = "11.8", min_driver = "450.80.02"), cuda_needs("cu118"))
    asserts.equals(env, struct(cuda = "12.6", min_driver = "525.60.13"), cuda_needs("cu126"))
    asserts.equals(env, struct(cuda = "14.0", min_driver = ""), cuda_needs("cu140"))
    asserts.equals(env, None, cuda_needs("cpu"))
    asserts.equals(env, None, cuda_needs("rocm6.2"))
    return unittest.end(env)

config_name_test = unittest.make(_config_name_test)
cuda_needs_test = unittest.make(_cuda_needs_test)
auto_variant_test = unittest.make(_auto_variant_test)

def variants_test_suite(name):
    unittest.suite(name, config_name_test, auto_variant_test, cuda_needs_test)
