# Every dependency comes from Debian 12's packages (ROOKERY_PACKAGES in scripts/lib/common.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(Protobuf REQUIRED)
find_package(spdlog REQUIRED)
if(ROOKERY_BUILD_TESTS)
  find_package(Catch2 REQUIRED)
endif()
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka rdkafka++)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
# libs/db's binary COPY talks to libpq directly (pqxx 6.4 sends COPY data only as text).
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(BROTLIDEC REQUIRED IMPORTED_TARGET libbrotlidec)
pkg_check_modules(BROTLIENC REQUIRED IMPORTED_TARGET libbrotlienc)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# libs/notify's SMTP and webhook delivery. SODIUM keeps the prefix services/admin uses, so its own
# lookup finds the target already made.
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/document.h REQUIRED)

add_library(rookery_rapidjson INTERFACE)
target_include_directories(rookery_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIR})
# std::string support and exceptions-free parse errors.
target_compile_definitions(rookery_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)
# Not RAPIDJSON_SSE2: its string scan reads up to 15 bytes past the end of the buffer (aligned
# loads, harmless in practice but out of bounds, and AddressSanitizer rightly refuses it), and on
# bench/relay its gain was within the machine's noise.
add_library(rookery::rapidjson ALIAS rookery_rapidjson)

add_library(rookery_boost INTERFACE)
target_link_libraries(rookery_boost INTERFACE Boost::boost Threads::Threads)
target_compile_definitions(rookery_boost INTERFACE BOOST_BEAST_USE_STD_STRING_VIEW BOOST_ASIO_NO_DEPRECATED)
add_library(rookery::boost ALIAS rookery_boost)

# The worker allocates and frees many small strings per event (normalized fields, grouping
# components, the batch's maps): glibc's malloc took ~20 % of its CPU in bench/worker, and
# mimalloc cut the worker's CPU per event by ~6 % (jemalloc did as well but held ~40 % more
# memory). Linked into the worker only; never with sanitizers, which replace the allocator.
set(ROOKERY_ALLOCATOR "mimalloc" CACHE STRING "The worker's malloc: mimalloc or system")
add_library(rookery_allocator INTERFACE)
if(ROOKERY_ALLOCATOR STREQUAL "mimalloc" AND ROOKERY_SANITIZE STREQUAL "")
  find_library(ROOKERY_MIMALLOC_LIBRARY NAMES mimalloc REQUIRED)
  target_link_libraries(rookery_allocator INTERFACE ${ROOKERY_MIMALLOC_LIBRARY})
elseif(NOT ROOKERY_ALLOCATOR STREQUAL "system" AND NOT ROOKERY_ALLOCATOR STREQUAL "mimalloc")
  message(FATAL_ERROR "ROOKERY_ALLOCATOR must be mimalloc or system, not '${ROOKERY_ALLOCATOR}'")
endif()
add_library(rookery::allocator ALIAS rookery_allocator)
