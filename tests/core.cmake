# Core, layers, models and the training loop (the foundation's tests).
cnn_add_test(test_layers ${CMAKE_CURRENT_SOURCE_DIR}/test_layers.c)
cnn_add_test(test_perm ${CMAKE_CURRENT_SOURCE_DIR}/test_perm.c)
