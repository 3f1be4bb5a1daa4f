# Robustness of a run: interruption (SIGINT, SIGTERM), divergence, the run
# directory's ownership and consistency, checkpoints and resume.
add_test(NAME test_interrupt COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_interrupt.sh $<TARGET_FILE:cnn-train>)
set_tests_properties(test_interrupt PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
add_test(NAME test_record_dir COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_record_dir.sh $<TARGET_FILE:cnn-train>)
set_tests_properties(test_record_dir PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
add_test(NAME test_resume COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_resume.sh $<TARGET_FILE:cnn-train>)
set_tests_properties(test_resume PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
add_test(NAME test_fail_fast COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_fail_fast.sh $<TARGET_FILE:cnn-train>)
set_tests_properties(test_fail_fast PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
