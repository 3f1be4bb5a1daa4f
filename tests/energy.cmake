# Tests of the energy hook (core/energy): meters, accounting, run record, report.

cnn_add_test(test_energy_accounting test_energy_accounting.c)
cnn_add_test(test_energy_json test_energy_json.c)
cnn_add_test(test_energy_rank_part test_energy_rank_part.c)
# emissions.csv against a copy of CodeCarbon 3.x's schema kept in tests/
cnn_add_test(test_energy_codecarbon test_energy_codecarbon.c)
set_tests_properties(test_energy_codecarbon PROPERTIES
                     ENVIRONMENT "CNN_CODECARBON_SCHEMA=${CMAKE_CURRENT_SOURCE_DIR}/codecarbon_schema_3.x.csv")
cnn_add_test(test_energy_rapl test_energy_rapl.c)
cnn_add_test(test_energy_session test_energy_session.c)

# A fake libnvidia-ml, loaded by the NVML meter through $CNN_NVML_LIB.
add_library(test_energy_fake_nvml SHARED ${CMAKE_CURRENT_SOURCE_DIR}/test_energy_fake_nvml.c)
cnn_add_test(test_energy_nvml test_energy_nvml.c test_run_json.c)
add_dependencies(test_energy_nvml test_energy_fake_nvml)
set_tests_properties(test_energy_nvml PROPERTIES ENVIRONMENT "CNN_TEST_FAKE_NVML=$<TARGET_FILE:test_energy_fake_nvml>")
target_link_libraries(test_energy_fake_nvml PRIVATE m)
# The hook's overhead and bounds on a fake GPU with the H200's NVML timings, and on the CPU.
cnn_add_test(test_energy_overhead test_energy_overhead.c test_run_json.c)
add_dependencies(test_energy_overhead test_energy_fake_nvml)
set_tests_properties(test_energy_overhead PROPERTIES ENVIRONMENT "CNN_TEST_FAKE_NVML=$<TARGET_FILE:test_energy_fake_nvml>")
# The idle baselines (machine, device open), their cache and --idle-seconds, on the fake NVML and the cpu-model.
cnn_add_test(test_energy_idle test_energy_idle.c test_run_json.c)
add_dependencies(test_energy_idle test_energy_fake_nvml)
set_tests_properties(test_energy_idle PROPERTIES ENVIRONMENT "CNN_TEST_FAKE_NVML=$<TARGET_FILE:test_energy_fake_nvml>")

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  # The report's SVGs, parsed with xml.etree, on a run played back by test_energy_session.
  add_test(NAME test_energy_svg
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_energy_svg.py
                   --fixture $<TARGET_FILE:test_energy_session> ${CMAKE_CURRENT_BINARY_DIR}/energy_svg_run)
  set_tests_properties(test_energy_svg PROPERTIES TIMEOUT 300)
  # End to end through the cnn-train binary on MNIST (skipped, saying so, without the data).
  add_test(NAME test_energy_e2e
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_energy_e2e.py
                   $<TARGET_FILE:cnn-train> ${CMAKE_CURRENT_BINARY_DIR}/energy_e2e_run)
  set_tests_properties(test_energy_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
  # --repeat 3 end to end: the repeats section's statistics, epochs.csv's run column, the per-run plots.
  add_test(NAME test_energy_repeat
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_energy_repeat.py
                   $<TARGET_FILE:cnn-train> ${CMAKE_CURRENT_BINARY_DIR}/energy_repeat_run)
  set_tests_properties(test_energy_repeat PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
else()
  message(WARNING "python3 not found: test_energy_svg, test_energy_e2e and test_energy_repeat are not registered")
endif()
