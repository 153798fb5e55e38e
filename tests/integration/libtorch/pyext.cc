// A pybind11 module (torch's own pybind11, torch/include/pybind11) that takes and returns tensors.
#include <torch/python.h>
#include <torch/version.h>

namespace {

torch::Tensor twice_plus(const torch::Tensor& x, double y) { return x * 2 + y; }

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("twice_plus", &twice_plus, "x * 2 + y, computed in C++");
  m.attr("built_against") = TORCH_VERSION;
}
