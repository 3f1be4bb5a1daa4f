# The CUDA backend's tests. The GPU tests are built in every configuration
# (they use only the backend table) and exit with 77 (skipped) when
# cnn_backend_create("cuda") reports no GPU or no CUDA build.
cnn_add_test(test_cuda_nogpu ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_nogpu.c)
cnn_add_test(test_cuda_graph ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_graph.c)
cnn_add_test(test_cuda_gemm ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_gemm.c)
cnn_add_test(test_cuda_determinism ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_determinism.c)
cnn_add_test(test_cuda_step ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_step.c)

# The kernels run on the CPU (no GPU, no CUDA toolkit needed): a C++ compiler
# builds them with a shim for the CUDA keywords (see test_cuda_emu.cpp).
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  cnn_add_test(test_cuda_emu ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_emu.cpp)
  target_compile_features(test_cuda_emu PRIVATE cxx_std_17)
  target_compile_options(test_cuda_emu PRIVATE -Wall -Wextra -Wno-unknown-pragmas)
  set_tests_properties(test_cuda_emu PROPERTIES TIMEOUT 900)
  # The fused MLP step (backends/cuda/fused/) on a cooperative grid, against the CPU backend.
  cnn_add_test(test_cuda_emu_fused ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_emu_fused.cpp)
  target_compile_features(test_cuda_emu_fused PRIVATE cxx_std_17)
  target_compile_options(test_cuda_emu_fused PRIVATE -Wall -Wextra -Wno-unknown-pragmas)
else()
  message(STATUS "cnn-train: no C++ compiler, so the CUDA kernels' CPU emulation test is not built")
endif()

# --precision on CUDA: the table's defaults per precision (no GPU needed),
# then (GPU) mma-tf32/mma-bf16/cuBLAS against the CPU's packed-tf32/packed-bf16
# on the MLP's GEMMs, and bf16 training steps against the CPU's.
cnn_add_test(test_cuda_precision ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_precision.c)
