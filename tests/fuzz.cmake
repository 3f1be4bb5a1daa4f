# A libFuzzer harness for the IDX reader (tests/fuzz_idx.c), built with
# clang's -fsanitize=fuzzer,address,undefined whatever compiler builds the
# rest, when clang and its libFuzzer runtime are installed (Debian: the
# clang package). ctest runs it over the seed corpus tests/fuzz_corpus/
# (small valid and invalid IDX files, raw and gzip) for a fixed number of
# inputs; new inputs it finds go to build/tests/fuzz_work, not the source
# tree. Without clang the test reports itself skipped, saying why.

set(CNN_FUZZ_RUNS 2000 CACHE STRING "Inputs test_fuzz_idx runs")
find_program(CNN_CLANG NAMES clang clang-16 clang-15 clang-14)
set(CNN_HAVE_LIBFUZZER OFF)
if(CNN_CLANG)
  # Can it build and link a fuzzer? (clang without its runtime cannot.)
  set(probe_dir ${CMAKE_CURRENT_BINARY_DIR}/fuzz_probe)
  file(MAKE_DIRECTORY ${probe_dir})
  file(WRITE ${probe_dir}/probe.c
       "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND ${CNN_CLANG} -fsanitize=fuzzer,address,undefined ${probe_dir}/probe.c -o ${probe_dir}/probe
                  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(CNN_HAVE_LIBFUZZER ON)
  endif()
endif()

if(CNN_HAVE_LIBFUZZER)
  set(fuzz_sources ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_idx.c ${PROJECT_SOURCE_DIR}/datasets/idx.c
                   ${PROJECT_SOURCE_DIR}/core/status.c)
  add_custom_command(
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/fuzz_idx
    COMMAND ${CNN_CLANG} -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
            -I${PROJECT_SOURCE_DIR} ${fuzz_sources} -lz -o ${CMAKE_CURRENT_BINARY_DIR}/fuzz_idx
    DEPENDS ${fuzz_sources} ${PROJECT_SOURCE_DIR}/datasets/idx.h ${PROJECT_SOURCE_DIR}/core/status.h
    COMMENT "Building the IDX fuzzer with ${CNN_CLANG} (libFuzzer, ASan, UBSan)")
  add_custom_target(fuzz_idx ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/fuzz_idx)
  add_test(NAME test_fuzz_idx
           COMMAND sh -c "mkdir -p \"$1\" && exec \"$0\" -runs=${CNN_FUZZ_RUNS} -seed=1 \"$1\" \"$2\""
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz_idx ${CMAKE_CURRENT_BINARY_DIR}/fuzz_work
                   ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus)
  set_tests_properties(test_fuzz_idx PROPERTIES TIMEOUT 300)
else()
  message(STATUS "cnn-train: clang with libFuzzer not found, test_fuzz_idx will be skipped (install clang)")
  add_test(NAME test_fuzz_idx
           COMMAND sh -c "echo 'test_fuzz_idx: skipped: clang with libFuzzer (-fsanitize=fuzzer) not found at configure time; install clang and re-run cmake'; exit 77")
  set_tests_properties(test_fuzz_idx PROPERTIES SKIP_RETURN_CODE 77)
endif()
