# Tests of datasets/: the IDX reader, MD5, look-up and download (against a
# local HTTP server, tests/http_server.py), and the real data when present.

set(CNN_DATASET_TEST_HELPERS ${CMAKE_CURRENT_SOURCE_DIR}/dataset_test_helpers.c)

cnn_add_test(test_md5 test_md5.c ${CNN_DATASET_TEST_HELPERS})
cnn_add_test(test_idx test_idx.c ${CNN_DATASET_TEST_HELPERS})
cnn_add_test(test_dataset test_dataset.c ${CNN_DATASET_TEST_HELPERS})
cnn_add_test(test_dataset_real test_dataset_real.c ${CNN_DATASET_TEST_HELPERS})
cnn_add_test(test_download test_download.c ${CNN_DATASET_TEST_HELPERS})
foreach(t test_md5 test_idx test_dataset test_dataset_real test_download)
  target_compile_definitions(${t} PRIVATE CNN_TEST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
endforeach()

# The same tests built a second time under AddressSanitizer and UBSan. The
# code under test is compiled into them directly with the sanitizer flags
# (not the uninstrumented libcnn), and any UBSan finding fails the test.
option(CNN_SANITIZE_TESTS "Also build the dataset tests with ASan and UBSan" ON)
set(CNN_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -O1 -g)
if(CNN_SANITIZE_TESTS)
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=address,undefined")
  check_c_source_compiles("int main(void) { return 0; }" CNN_HAVE_SANITIZERS)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
endif()
if(CNN_SANITIZE_TESTS AND CNN_HAVE_SANITIZERS)
  file(GLOB CNN_DATASET_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/datasets/*.c)
  add_library(cnn_datasets_sanitized STATIC EXCLUDE_FROM_ALL
    ${CNN_DATASET_SOURCES} ${PROJECT_SOURCE_DIR}/core/status.c ${PROJECT_SOURCE_DIR}/core/rng.c
    ${PROJECT_SOURCE_DIR}/core/precision.c
    ${CMAKE_CURRENT_SOURCE_DIR}/test_util.c ${CNN_DATASET_TEST_HELPERS})
  target_include_directories(cnn_datasets_sanitized PUBLIC ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(cnn_datasets_sanitized PUBLIC _GNU_SOURCE CNN_VERSION="${PROJECT_VERSION}"
                             CNN_TEST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
  target_compile_options(cnn_datasets_sanitized PUBLIC ${CNN_SANITIZE_FLAGS})
  target_link_options(cnn_datasets_sanitized PUBLIC -fsanitize=address,undefined)
  target_link_libraries(cnn_datasets_sanitized PUBLIC ZLIB::ZLIB CURL::libcurl Threads::Threads m)
  foreach(t test_md5 test_idx test_dataset test_download)
    add_executable(${t}_asan ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
    target_link_libraries(${t}_asan PRIVATE cnn_datasets_sanitized)
    add_test(NAME ${t}_asan COMMAND ${t}_asan)
    set_tests_properties(${t}_asan PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endforeach()
endif()

# Gzip bombs read under a memory limit (RLIMIT_AS, in a child process): not
# in the ASan list above, whose shadow memory does not fit such a limit.
cnn_add_test(test_idx_bomb test_idx_bomb.c ${CNN_DATASET_TEST_HELPERS})
