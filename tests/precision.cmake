# Lower precision and sweeps (issue 12, docs/precision.md). The GEMM tests
# are in gemm.cmake; here the end-to-end ones.

# The MLP reaches 0.96 on the shared MNIST subset with --precision bf16 on the CPU.
cnn_add_test(test_train_bf16 test_train_bf16.c)

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  # A 2x3 sweep on the CPU, its table and failed rows, and its report's SVGs.
  add_test(NAME test_sweep
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_sweep.py
                   $<TARGET_FILE:cnn-train> ${CMAKE_CURRENT_BINARY_DIR}/sweep_run)
  set_tests_properties(test_sweep PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()

# --precision with a --gemm of another precision, or an unknown precision: exit 2, one line saying why.
add_test(NAME test_precision_cli_mismatch
         COMMAND sh -c "\"$0\" mnist --precision bf16 --gemm packed --no-energy --epochs 1 2>&1; test $? -eq 2"
                 $<TARGET_FILE:cnn-train>)
set_tests_properties(test_precision_cli_mismatch PROPERTIES TIMEOUT 120
                     PASS_REGULAR_EXPRESSION "--gemm=packed computes in fp32, not in the bf16 asked by --precision; choose one of: packed-bf16")
add_test(NAME test_precision_cli_unknown
         COMMAND sh -c "\"$0\" mnist --precision fp8 2>&1; test $? -eq 2" $<TARGET_FILE:cnn-train>)
set_tests_properties(test_precision_cli_unknown PROPERTIES TIMEOUT 60
                     PASS_REGULAR_EXPRESSION "unknown precision 'fp8'; choose fp32, tf32 or bf16")

# explain: the step's GEMMs per precision; bf16 halves the bytes of A and B
# (MLP 784-512-10, B = 128: 209.5 MFLOP; 5.402 MB in FP32, 3.779 MB with bf16 inputs).
add_test(NAME test_explain_precision COMMAND cnn-train explain --batch 128)
set_tests_properties(test_explain_precision PROPERTIES TIMEOUT 60
                     PASS_REGULAR_EXPRESSION "fp32 +209\\.5 +5\\.402 +38\\.78\n  tf32 +209\\.5 +5\\.402 +38\\.78\n  bf16 +209\\.5 +3\\.779 +55\\.43")

# gemm-bench --power: without an energy counter (NVML library or RAPL tree
# absent, forced here so the test means the same on every machine) it says
# why and exits 1; with the fake NVML counter of the energy tests and tiny
# windows (CNN_GEMM_BENCH_POWER_MIN_S lowers the 2 s floor for tests only)
# it prints the table for every data kind, ours and the reference.
if(TARGET gemm-bench)
  add_test(NAME test_gemm_bench_power_refuses
           COMMAND sh -c "\"$0\" --power --meter=nvml 2>&1; test $? -eq 1" $<TARGET_FILE:gemm-bench>)
  set_tests_properties(test_gemm_bench_power_refuses PROPERTIES TIMEOUT 60 ENVIRONMENT "CNN_NVML_LIB=/nonexistent/libnvidia-ml.so.1"
                       PASS_REGULAR_EXPRESSION "--power cannot measure here: .*no estimate is reported")
  add_test(NAME test_gemm_bench_power_refuses_rapl
           COMMAND sh -c "\"$0\" --power 2>&1; test $? -eq 1" $<TARGET_FILE:gemm-bench>)
  set_tests_properties(test_gemm_bench_power_refuses_rapl PROPERTIES TIMEOUT 60 ENVIRONMENT "CNN_POWERCAP_ROOT=/nonexistent"
                       PASS_REGULAR_EXPRESSION "--power cannot measure here: RAPL")
  add_test(NAME test_gemm_bench_power_fake_nvml
           COMMAND gemm-bench --power --meter=nvml --shape=64x48x40 --seconds=0.02 --repeat=2 --data=zeros,ones,random,sparse50)
  set_tests_properties(test_gemm_bench_power_fake_nvml PROPERTIES TIMEOUT 120
                       ENVIRONMENT "CNN_NVML_LIB=$<TARGET_FILE:test_energy_fake_nvml>;CNN_GEMM_BENCH_POWER_MIN_S=0.01"
                       PASS_REGULAR_EXPRESSION "sparse50 +openblas .*\\(reference\\)\nmedians over 2 windows")
  add_test(NAME test_gemm_bench_power_short_window
           COMMAND sh -c "\"$0\" --power --seconds=0.5 2>&1; test $? -eq 2" $<TARGET_FILE:gemm-bench>)
  set_tests_properties(test_gemm_bench_power_short_window PROPERTIES TIMEOUT 60 PASS_REGULAR_EXPRESSION "at least 2")
endif()
