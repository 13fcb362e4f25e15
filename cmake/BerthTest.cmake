# berth_unit_test(NAME SOURCES src... LIBS lib...)
# Builds one GoogleTest executable and registers its tests with CTest under the label `unit`.
function(berth_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()

# berth_e2e_test(NAME SOURCES src... LIBS lib...)
# Like berth_unit_test, but labelled `e2e` and run one at a time. The test finds the built
# binaries through the environment variable BERTH_BIN_DIR and the source tree through the
# compile definition BERTH_SOURCE_DIR (gtest_discover_tests takes a single ENVIRONMENT entry).
function(berth_e2e_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE BERTH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  gtest_discover_tests(${name}
    PROPERTIES LABELS e2e RUN_SERIAL TRUE TIMEOUT 600
      ENVIRONMENT "BERTH_BIN_DIR=${CMAKE_BINARY_DIR}/bin"
    DISCOVERY_TIMEOUT 60)
endfunction()
