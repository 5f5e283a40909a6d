// Runs Sentry's grouping acceptance fixtures (expected.json next to the inputs) and checks that
// every fixture's hash list equals the one Sentry produced, in order.
//
//   grouping_conformance [fixtures-dir] [--verbose]
//
// Exit codes: 0 all pass, 1 a mismatch or a broken fixture, 77 the directory is absent (skipped).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "rookery/grouping/sentry_grouping.hpp"

namespace {

namespace grouping = rookery::grouping;

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Join(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i];
  return out + "]";
}

// The harness-only keys of Sentry's fixtures become the project's rules.
std::optional<grouping::ProjectRules> RulesFromFixture(const rapidjson::Value& input, std::string& error) {
  grouping::ProjectRules rules;
  if (input.HasMember("_fingerprinting_rules")) {
    auto parsed = grouping::FingerprintRulesFromJson(input["_fingerprinting_rules"]);
    if (!parsed) {
      error = "bad _fingerprinting_rules: " + parsed.error();
      return std::nullopt;
    }
    rules.fingerprinting = std::move(*parsed);
  }
  if (input.HasMember("_grouping") && input["_grouping"].IsObject() && input["_grouping"].HasMember("enhancements") &&
      input["_grouping"]["enhancements"].IsString()) {
    auto parsed = grouping::ParseStacktraceRules(input["_grouping"]["enhancements"].GetString());
    if (!parsed) {
      error = "bad _grouping.enhancements: " + parsed.error();
      return std::nullopt;
    }
    rules.enhancements = std::move(*parsed);
  }
  return rules;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = ROOKERY_SENTRY_GROUPING_FIXTURES;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--verbose") {
      verbose = true;
    } else {
      dir = arg;
    }
  }
  const auto expected_text = ReadFile(dir / "expected.json");
  if (!expected_text) {
    std::cout << "grouping_conformance: no fixtures at " << dir << ", skipping\n";
    return 77;
  }
  rapidjson::Document expected;
  if (expected.Parse(expected_text->c_str()).HasParseError() || !expected.HasMember("fixtures")) {
    std::cerr << "expected.json is not valid\n";
    return 1;
  }

  int passed = 0;
  int failed = 0;
  int unchecked = 0;
  std::set<std::string> listed;
  for (const auto& fixture : expected["fixtures"].GetArray()) {
    const std::string name = fixture["input"].GetString();
    listed.insert(name);
    const auto input_text = ReadFile(dir / name);
    rapidjson::Document input;
    if (!input_text || input.Parse(input_text->c_str()).HasParseError()) {
      std::cout << "FAIL " << name << ": cannot read the input\n";
      ++failed;
      continue;
    }
    std::string error;
    const auto rules = RulesFromFixture(input, error);
    if (!rules) {
      std::cout << "FAIL " << name << ": " << error << "\n";
      ++failed;
      continue;
    }
    const auto result = grouping::ComputeSentryGrouping(input, *rules, {.collect_details = true});

    const auto& hashes = fixture["expected_hashes_in_order"];
    if (!hashes.IsArray()) {
      std::cout << "SKIP " << name << ": no expected hashes (Sentry has no snapshot); computed " << Join(result.hashes)
                << "\n";
      ++unchecked;
      continue;
    }
    std::vector<std::string> want;
    for (const auto& hash : hashes.GetArray()) want.emplace_back(hash.GetString());
    // The worker groups through a memo: it must give the same hashes, computed and remembered.
    grouping::GroupingMemo memo;
    const bool memo_ok = memo.Compute(input, *rules, 1).hashes == want &&
                         memo.Compute(input, *rules, 1).hashes == want && memo.Hits() == 1;
    if (!memo_ok) std::cout << "FAIL " << name << ": the grouping memo gave other hashes\n";
    const bool ok = want == result.hashes && memo_ok;
    std::cout << (ok ? "PASS " : "FAIL ") << name;
    if (!ok) std::cout << ": expected " << Join(want) << ", got " << Join(result.hashes);
    std::cout << "\n";
    if (!ok || verbose) {
      for (const auto& variant : result.variants) {
        std::cout << "  " << variant.name << ": " << variant.hash.value_or("null") << " (" << variant.description
                  << (variant.hint.empty() ? "" : "; " + variant.hint) << ")\n";
        std::istringstream tree(variant.tree);
        for (std::string line; std::getline(tree, line);) std::cout << "    " << line << "\n";
      }
    }
    (ok ? passed : failed)++;
  }
  // An input that expected.json does not list would otherwise never be checked, silently.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".json" && name != "expected.json" && listed.count(name) == 0) {
      std::cout << "FAIL " << name << ": an input that expected.json does not list\n";
      ++failed;
    }
  }
  std::cout << "grouping_conformance: " << passed << " passed, " << failed << " failed, " << unchecked
            << " without expected hashes\n";
  return failed == 0 ? 0 : 1;
}
