// A custom operator registered with TORCH_LIBRARY: torch.ops.rules_torch_test.scaled_add.
#include <ATen/ATen.h>
#include <torch/library.h>

namespace {

at::Tensor scaled_add(const at::Tensor& a, const at::Tensor& b, double alpha) {
  return a + b * alpha + 1000;  // the 1000 proves this code ran, not a Python stand-in
}

}  // namespace

TORCH_LIBRARY(rules_torch_test, m) {
  m.def("scaled_add(Tensor a, Tensor b, float alpha) -> Tensor");
  m.impl("scaled_add", c10::DispatchKey::CPU, &scaled_add);
}
