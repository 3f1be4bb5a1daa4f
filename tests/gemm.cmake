# The CPU GEMM ladder (issue 3). test_gemm_cpu checks every variant in
# cnn_cpu_gemm_variants[] against a double-precision reference, with the
# instruction set CPUID picks (and that it picks the right one). The
# kernel_* tests force the narrower instruction sets (CNN_CPU_KERNEL's
# values) so that every micro-kernel and every compiled copy of the reorder
# loops is validated on an AVX-512 machine; a CPU that cannot run one skips
# it (exit 77). The env_* tests check the environment variable and its
# error path.
cnn_add_test(test_gemm_cpu test_gemm_cpu.c)

foreach(kernel avx2 scalar)
  add_test(NAME test_gemm_cpu_kernel_${kernel}
           COMMAND test_gemm_cpu --variant=reorder,blocked,parallel,packed --kernel=${kernel})
  set_tests_properties(test_gemm_cpu_kernel_${kernel} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()

add_test(NAME test_gemm_cpu_env_kernel COMMAND test_gemm_cpu --variant=reorder,packed --quick --expect-kernel=scalar)
set_tests_properties(test_gemm_cpu_env_kernel PROPERTIES ENVIRONMENT CNN_CPU_KERNEL=scalar TIMEOUT 300)
add_test(NAME test_gemm_cpu_env_bad_kernel COMMAND test_gemm_cpu --expect-kernel-error)
set_tests_properties(test_gemm_cpu_env_bad_kernel PROPERTIES ENVIRONMENT CNN_CPU_KERNEL=avx1024 TIMEOUT 60)

# gemm-bench: a smoke run (tiny shapes, one sample: validation and output
# format only, no timing threshold), and its exit codes for a bad flag (2)
# and, in a build without CUDA, --backend=cuda (1, with the backend's message).
if(TARGET gemm-bench)
  add_test(NAME test_gemm_bench_smoke
           COMMAND gemm-bench --shapes=33x17x9,5x40x3:TN,mlp --batch=3 --hidden=7,5 --repeat=1 --min-time=0.001
                   --warm --csv)
  set_tests_properties(test_gemm_bench_smoke PROPERTIES TIMEOUT 120
                       PASS_REGULAR_EXPRESSION "backend,gemm,transa,transb,M,N,K,gflops,ref_gflops,ratio,max_rel_err")
  add_test(NAME test_gemm_bench_bad_flag
           COMMAND sh -c "\"$0\" --frobnicate 2>&1; test $? -eq 2" $<TARGET_FILE:gemm-bench>)
  # Bad input: --threads, shape sizes, buffers over size_t or the memory available (one line, exit 2).
  add_test(NAME test_gemm_bench_cli
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_gemm_bench_cli.sh $<TARGET_FILE:gemm-bench>)
  set_tests_properties(test_gemm_bench_cli PROPERTIES TIMEOUT 300)
  # Each variant's validation tolerance follows from its input precision (TF32 emulated on the CPU).
  cnn_add_test(test_gemm_bench_validate test_gemm_bench_validate.c ${PROJECT_SOURCE_DIR}/tools/gemm_bench/validate.c)
  target_include_directories(test_gemm_bench_validate PRIVATE ${PROJECT_SOURCE_DIR}/tools/gemm_bench)
  if(NOT CNN_HAVE_CUDA)
    add_test(NAME test_gemm_bench_no_cuda
             COMMAND sh -c "\"$0\" --backend=cuda 2>&1; test $? -eq 1" $<TARGET_FILE:gemm-bench>)
  endif()
endif()

# Lower precision (issue 12, docs/precision.md): tf32 and bf16 GEMMs against
# double references on rounded and unrounded inputs, the AVX-512 BF16 kernel
# against the scalar one, selection by --precision; then the same with the
# scalar kernels forced (what a CPU without AVX-512 BF16 runs).
cnn_add_test(test_gemm_precision test_gemm_precision.c)
add_test(NAME test_gemm_precision_scalar COMMAND test_gemm_precision)
set_tests_properties(test_gemm_precision_scalar PROPERTIES ENVIRONMENT CNN_CPU_KERNEL=scalar TIMEOUT 300)
