// Invariant checks for the fuzz targets. Not assert(): the CI replay is a RelWithDebInfo build
// (NDEBUG), and a broken invariant must fail there exactly as it does under libFuzzer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace rookery::fuzz {

[[noreturn]] inline void CheckFailed(const char* expression, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", file, line, expression);
  std::abort();  // libFuzzer reports a crash and saves the input; the replay test fails
}

/// Whether `part` lies inside `whole`, compared as addresses: a view that escaped its buffer is
/// exactly the bug a zero-copy parser can have. An empty view at the very end is inside.
inline bool IsInside(std::string_view part, std::string_view whole) {
  const auto begin = reinterpret_cast<std::uintptr_t>(whole.data());
  const auto at = reinterpret_cast<std::uintptr_t>(part.data());
  return at >= begin && at + part.size() <= begin + whole.size();
}

}  // namespace rookery::fuzz

#define ROOKERY_FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::rookery::fuzz::CheckFailed(#condition, __FILE__, __LINE__))
