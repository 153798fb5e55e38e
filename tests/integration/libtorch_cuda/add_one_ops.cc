// torch.ops.rules_torch_cuda.add_one: a TORCH_LIBRARY op whose CUDA implementation runs the kernel.
#include <ATen/ATen.h>
#include <torch/library.h>

int launch_add_one(const float* in, float* out, int n);

namespace {

at::Tensor add_one(const at::Tensor& x) {
  TORCH_CHECK(x.is_cuda() && x.scalar_type() == at::kFloat, "add_one takes a float CUDA tensor");
  at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in);
  int status = launch_add_one(in.data_ptr<float>(), out.data_ptr<float>(), static_cast<int>(in.numel()));
  TORCH_CHECK(status == 0, "add_one kernel launch failed: CUDA error ", status);
  return out;
}

}  // namespace

TORCH_LIBRARY(rules_torch_cuda, m) {
  m.def("add_one(Tensor x) -> Tensor");
  m.impl("add_one", c10::DispatchKey::CUDA, &add_one);
}
