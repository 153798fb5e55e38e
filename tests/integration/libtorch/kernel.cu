// A CUDA source: refused in a CPU variant (test_libtorch.py checks the message).
__global__ void fill(float* out, float value) { out[threadIdx.x] = value; }
