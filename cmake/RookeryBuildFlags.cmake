# Warnings, -Werror and sanitizers live on one INTERFACE target that every first-party target links
# privately; generated protobuf code gets relaxed flags of its own.
add_library(rookery_build_flags INTERFACE)
target_compile_options(rookery_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wimplicit-fallthrough -Wformat=2 -Wno-missing-field-initializers)
if(ROOKERY_WERROR)
  target_compile_options(rookery_build_flags INTERFACE -Werror)
endif()

if(ROOKERY_SANITIZE)
  if(ROOKERY_SANITIZE MATCHES "thread" AND ROOKERY_SANITIZE MATCHES "address")
    message(FATAL_ERROR "ThreadSanitizer cannot be combined with AddressSanitizer")
  endif()
  # Applied globally so that every object, including generated code, agrees on the runtime.
  add_compile_options(-fsanitize=${ROOKERY_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${ROOKERY_SANITIZE})
  if(ROOKERY_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# Helper: rookery_library(<name> SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...) creates
# target rookery_<name> with alias rookery::<name> and include/ as its public include dir.
function(rookery_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(rookery_${name} STATIC ${ARG_SOURCES})
  add_library(rookery::${name} ALIAS rookery_${name})
  target_include_directories(rookery_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(rookery_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} rookery_build_flags)
endfunction()

# Helper: rookery_unit_test(<name> SOURCES ... DEPS ...) builds a Catch2 binary labelled "unit".
function(rookery_unit_test name)
  if(NOT ROOKERY_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} Catch2::Catch2WithMain rookery_build_flags)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
