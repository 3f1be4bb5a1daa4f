# Convolutional layers (issue 6): conv2d, maxpool and their backend ops
# against double-precision references and finite differences, whole CNN
# gradients, LeNet on the shared MNIST, and the explain command's counts.
cnn_add_test(test_conv ${CMAKE_CURRENT_SOURCE_DIR}/test_conv.c)
cnn_add_test(test_lenet_train ${CMAKE_CURRENT_SOURCE_DIR}/test_lenet_train.c)
cnn_add_test(test_explain ${CMAKE_CURRENT_SOURCE_DIR}/test_explain.c)
# explain's roofline: the cache level of a working set (made-up cache sizes), sysfs, the cache file
cnn_add_test(test_explain_roof ${CMAKE_CURRENT_SOURCE_DIR}/test_explain_roof.c
             ${PROJECT_SOURCE_DIR}/tools/cnn_train/explain_roof.c ${PROJECT_SOURCE_DIR}/tools/cnn_train/explain_probe.c
             ${PROJECT_SOURCE_DIR}/tools/cnn_train/explain_roof_cache.c)
target_include_directories(test_explain_roof PRIVATE ${PROJECT_SOURCE_DIR}/tools/cnn_train)
add_test(NAME test_explain_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_explain_cli.sh $<TARGET_FILE:cnn-train>)
set_tests_properties(test_explain_cli PROPERTIES TIMEOUT 300)
# CPU vs CUDA for the conv layers and whole LeNet steps (skipped, 77, without a GPU)
cnn_add_test(test_cuda_conv ${CMAKE_CURRENT_SOURCE_DIR}/test_cuda_conv.c)
