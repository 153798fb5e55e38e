// A C++ test on @torch//:libtorch: runs a tensor op and checks the result and torch's version.
#include <ATen/ATen.h>
#include <torch/version.h>

#include <cstdio>
#include <cstring>

int main() {
  at::Tensor a = at::arange(6, at::kFloat).reshape({2, 3});
  at::Tensor product = at::matmul(a, at::ones({3, 2}));  // [[3, 3], [12, 12]]
  const float expected[] = {3, 3, 12, 12};
  const float* got = product.contiguous().data_ptr<float>();
  for (int i = 0; i < 4; ++i) {
    if (got[i] != expected[i]) {
      std::printf("matmul[%d] = %f, expected %f\n", i, got[i], expected[i]);
      return 1;
    }
  }
  if (std::strcmp(TORCH_VERSION, EXPECTED_TORCH_VERSION) != 0) {
    std::printf("libtorch %s, expected %s\n", TORCH_VERSION, EXPECTED_TORCH_VERSION);
    return 1;
  }
  std::printf("libtorch %s: matmul ok\n", TORCH_VERSION);
  return 0;
}
