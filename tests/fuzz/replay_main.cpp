// A stand-in for libFuzzer's main, so that CI can replay the corpus with g++ and no clang: runs
// LLVMFuzzerTestOneInput once on every file named, or found (recursively) in every directory
// named, on the command line. A broken invariant aborts, and ctest reports the test as failed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<char> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else if (std::filesystem::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "no such file or directory: %s\n", argv[i]);
      return 2;
    }
  }
  // An empty corpus would pass while testing nothing, e.g. after a moved directory.
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s <file or directory>... (no inputs found)\n", argv[0]);
    return 2;
  }
  // Sorted, so that a failure names the same input on every machine.
  std::sort(inputs.begin(), inputs.end());
  for (const auto& path : inputs) {
    // Printed before the run: when an input aborts, the last line names it.
    std::fprintf(stderr, "replaying %s\n", path.c_str());
    std::vector<char> bytes = ReadFile(path);
    // Copied into an exactly-sized heap block, as libFuzzer does, so that ASan builds of the
    // replay also catch reads one past the end.
    std::vector<std::uint8_t> exact(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(exact.data(), exact.size());
  }
  std::fprintf(stderr, "replayed %zu inputs\n", inputs.size());
  return 0;
}
