# The cross-backend op test: every op of the backend table on the CPU (the
# reference), a second CPU backend, the CUDA backend where a GPU is, and the
# CUDA kernels on the CPU emulator where a C++ compiler is.
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  cnn_add_test(test_backend_ops ${CMAKE_CURRENT_SOURCE_DIR}/test_backend_ops.c
               ${CMAKE_CURRENT_SOURCE_DIR}/emu_backend.cpp)
  target_compile_features(test_backend_ops PRIVATE cxx_std_17)
  target_compile_options(test_backend_ops PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unknown-pragmas>)
else()
  message(STATUS "cnn-train: no C++ compiler, so test_backend_ops runs without the CUDA kernels' emulator")
  cnn_add_test(test_backend_ops ${CMAKE_CURRENT_SOURCE_DIR}/test_backend_ops.c
               ${CMAKE_CURRENT_SOURCE_DIR}/emu_backend_none.c)
endif()
set_tests_properties(test_backend_ops PROPERTIES TIMEOUT 600)
