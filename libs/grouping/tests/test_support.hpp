// Helpers the grouping tests share: fixture files, JSON and project rules.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <rapidjson/document.h>

#include "rookery/grouping/sentry_grouping.hpp"

namespace rookery::grouping::testing {

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline rapidjson::Document ParseJson(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.c_str());
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

/// Both rule texts parsed; either may be empty.
inline ProjectRules Rules(const std::string& fingerprinting, const std::string& enhancements = "") {
  ProjectRules rules;
  auto fingerprint_rules = ParseFingerprintRules(fingerprinting);
  REQUIRE(fingerprint_rules.has_value());
  rules.fingerprinting = *fingerprint_rules;
  auto stacktrace_rules = ParseStacktraceRules(enhancements);
  REQUIRE(stacktrace_rules.has_value());
  rules.enhancements = *stacktrace_rules;
  return rules;
}

/// A fixture's `project_rules` ({"fingerprinting": ..., "enhancements": ...}), none if absent.
inline ProjectRules FixtureRules(const rapidjson::Value& fixture) {
  if (!fixture.HasMember("project_rules")) return {};
  const auto& project = fixture["project_rules"];
  return Rules(project.HasMember("fingerprinting") ? project["fingerprinting"].GetString() : "",
               project.HasMember("enhancements") ? project["enhancements"].GetString() : "");
}

}  // namespace rookery::grouping::testing
