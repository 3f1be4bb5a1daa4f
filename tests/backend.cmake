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
# The table's rows leave their trailing flags (bad_input, gpu_only) unset where they are false.
target_compile_options(test_backend_ops PRIVATE $<$<COMPILE_LANGUAGE:C>:-Wno-missing-field-initializers>)

# The training step's ladder in the loop: kind resolution, and the fused step
# (the CUDA kernel, emulated where a C++ compiler is) trained through cnn_train.
if(CMAKE_CXX_COMPILER)
  cnn_add_test(test_train_step_kinds ${CMAKE_CURRENT_SOURCE_DIR}/test_train_step_kinds.c ${CMAKE_CURRENT_SOURCE_DIR}/bars_dataset.c
               ${CMAKE_CURRENT_SOURCE_DIR}/emu_backend.cpp)
  target_compile_features(test_train_step_kinds PRIVATE cxx_std_17)
else()
  cnn_add_test(test_train_step_kinds ${CMAKE_CURRENT_SOURCE_DIR}/test_train_step_kinds.c ${CMAKE_CURRENT_SOURCE_DIR}/bars_dataset.c
               ${CMAKE_CURRENT_SOURCE_DIR}/emu_backend_none.c)
endif()

# step-bench (a benchmark, so here only its smoke run and a usage error): the
# ops rung is timed on the CPU and the rungs the CPU lacks print n/a.
add_test(NAME test_step_bench_smoke
         COMMAND sh -c "\"$0\" --batches=8,16 --steps=2 --warmup=1 --rounds=2 --examples=64 --hidden=16 > step.out && grep -Eq '^mlp 784-16-10 +8  ops +[0-9.]+ +1.00' step.out && grep -Eq '16  fused +n/a' step.out" $<TARGET_FILE:step-bench>)
add_test(NAME test_step_bench_bad_flag
         COMMAND sh -c "\"$0\" --batches=0 2>&1 | grep -q 'batches takes' && { \"$0\" --batches=0 >/dev/null 2>&1; test $? -eq 2; }" $<TARGET_FILE:step-bench>)
