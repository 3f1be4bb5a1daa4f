# Core, layers, models and the training loop (the foundation's tests).
cnn_add_test(test_layers ${CMAKE_CURRENT_SOURCE_DIR}/test_layers.c)
cnn_add_test(test_perm ${CMAKE_CURRENT_SOURCE_DIR}/test_perm.c)
cnn_add_test(test_train ${CMAKE_CURRENT_SOURCE_DIR}/test_train.c)
cnn_add_test(test_target_check ${CMAKE_CURRENT_SOURCE_DIR}/test_target_check.c)
add_test(NAME test_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh $<TARGET_FILE:cnn-train>)
set_tests_properties(test_cli PROPERTIES TIMEOUT 300)
