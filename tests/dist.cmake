# Data-parallel training (core/dist.h, docs/distributed.md), registered where
# the build has MPI: the collectives' unit test, the training loop on the CPU
# backend and on the CUDA kernels' emulator (the fused step's gradient-only
# launches) against single-process runs, and cnn-train end to end (tests/
# test_dist.sh), each under mpirun with 2 ranks (Open MPI's flags: as root in
# CI, more ranks than cores allowed, no banners). Without MPI: a launch of
# several ranks is refused.
if(CNN_HAVE_MPI)
  set(CNN_MPIRUN ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -q)
  # cnn_add_dist_test(NAME SOURCES...): the test program, run as 2 ranks.
  function(cnn_add_dist_test name)
    add_executable(${name} ${ARGN} ${CMAKE_CURRENT_SOURCE_DIR}/test_util.c)
    target_link_libraries(${name} PRIVATE cnn)
    target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    add_test(NAME ${name} COMMAND ${CNN_MPIRUN} -np 2 $<TARGET_FILE:${name}>)
    set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  endfunction()
  cnn_add_dist_test(test_dist_sum ${CMAKE_CURRENT_SOURCE_DIR}/test_dist_sum.c)
  if(CMAKE_CXX_COMPILER)
    cnn_add_dist_test(test_dist_train ${CMAKE_CURRENT_SOURCE_DIR}/test_dist_train.c ${CMAKE_CURRENT_SOURCE_DIR}/bars_dataset.c
                      ${CMAKE_CURRENT_SOURCE_DIR}/emu_backend.cpp)
    target_compile_features(test_dist_train PRIVATE cxx_std_17)
  else()
    cnn_add_dist_test(test_dist_train ${CMAKE_CURRENT_SOURCE_DIR}/test_dist_train.c ${CMAKE_CURRENT_SOURCE_DIR}/bars_dataset.c
                      ${CMAKE_CURRENT_SOURCE_DIR}/emu_backend_none.c)
  endif()
  if(CNN_HAVE_NCCL) # NCCL loaded at run time (no GPU needed)
    cnn_add_test(test_nccl_runtime test_nccl_runtime.c)
    target_include_directories(test_nccl_runtime PRIVATE ${NCCL_INCLUDE_DIR})
  endif()
  add_test(NAME test_dist COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_dist.sh $<TARGET_FILE:cnn-train>
                                  ${MPIEXEC_EXECUTABLE})
  set_tests_properties(test_dist PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
else()
  # Started as one of 2 ranks (the launcher's variable) by a build without MPI: one line, exit 2, no run.
  add_test(NAME test_dist_refused_without_mpi
           COMMAND sh -c "OMPI_COMM_WORLD_SIZE=2 \"$0\" mnist --no-energy 2>err.txt; rc=$?; cat err.txt; test $rc -eq 2 && grep -q 'built without MPI' err.txt && test $(wc -l < err.txt) -eq 1"
                   $<TARGET_FILE:cnn-train>)
endif()
if(CNN_HAVE_MPI)
  # cnn-train sweep as 2 ranks: refused in one line (exit 2), before any row runs
  add_test(NAME test_dist_sweep_refused
           COMMAND sh -c "${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -q -np 2 \"$0\" sweep mnist --batch 32,64 >out.txt 2>err.txt; rc=$?; cat err.txt; test $rc -eq 2 && test $(grep -c 'sweep runs its rows one process at a time' err.txt) -eq 1 && ! test -s out.txt"
                   $<TARGET_FILE:cnn-train>)
  set_tests_properties(test_dist_sweep_refused PROPERTIES WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endif()
