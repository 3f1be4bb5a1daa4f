# The layout of the energy pipeline (tools/check_layers.py): core/energy's
# stages common < meters < accounting < result < record < report < the
# session, with no back link and no circle, in the #includes and in the calls
# between the library's objects; and core/ using nothing from the folders above it.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME test_layout
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_layers.py --root ${PROJECT_SOURCE_DIR}
                   --objects ${PROJECT_BINARY_DIR}/CMakeFiles/cnn.dir/core/energy)
  # The checker itself: a clean tree passes; a back link, a circle, core/ using models/ fail.
  add_test(NAME test_layout_selftest COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_layers.py --self-test)
else()
  message(WARNING "python3 not found: test_layout and test_layout_selftest are not registered")
endif()
