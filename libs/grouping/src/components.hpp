// Grouping components: the tree Sentry builds per variant, whose contributing leaves are hashed.
// Nodes live in one arena per event; a node's `contributes` is computed once when it is created
// (from its values or children) and only changes through explicit updates afterwards, exactly as
// in Sentry, where later changes to a child do not propagate to its parent.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace rookery::grouping::detail {

enum class Cid : std::uint8_t {
  kApp,
  kSystem,
  kDefault,
  kChainedException,
  kException,
  kStacktrace,
  kFrame,
  kModule,
  kFilename,
  kFunction,
  kContextLine,
  kType,
  kValue,
  kNsError,
  kNsErrorDomain,
  kNsErrorCode,
  kThreads,
  kMessage,
  kTemplate,
};

std::string_view CidName(Cid id);

/// A leaf value: text, or a reference to an exception value whose normalized (parameterized) form
/// is computed only when something hashes it.
struct CValue {
  std::string_view text;
  std::int32_t lazy = -1;
};

struct CNode {
  Cid id = Cid::kFrame;
  bool contributes = false;
  bool is_leaf = false;
  std::uint32_t begin = 0;  // into Tree::children or Tree::values
  std::uint32_t count = 0;
  std::string_view hint;
};

class Tree {
 public:
  using Resolver = std::function<std::string_view(std::int32_t)>;

  void Reserve(std::size_t nodes);
  std::uint32_t Leaf(Cid id, std::initializer_list<CValue> values);
  std::uint32_t Empty(Cid id);
  std::uint32_t Parent(Cid id, const std::uint32_t* children, std::size_t count);
  std::uint32_t Parent(Cid id, const std::vector<std::uint32_t>& children) {
    return Parent(id, children.data(), children.size());
  }
  /// Replaces a leaf's value, recomputing `contributes` like Sentry's update(values=...).
  void SetValue(std::uint32_t node, CValue value);
  void Update(std::uint32_t node, bool contributes, std::string_view hint = {});

  CNode& operator[](std::uint32_t node) { return nodes_[node]; }
  const CNode& operator[](std::uint32_t node) const { return nodes_[node]; }
  const std::uint32_t* ChildrenOf(std::uint32_t node) const { return children_.data() + nodes_[node].begin; }
  const CValue* ValuesOf(std::uint32_t node) const { return values_.data() + nodes_[node].begin; }

  /// Sentry's iter_values: leaves of components that contribute, and whose ancestors do.
  void IterValues(std::uint32_t node, const Resolver& resolve, const std::function<void(std::string_view)>& sink) const;
  std::string Hash(std::uint32_t node, const Resolver& resolve) const;
  /// Whether a contributing `stacktrace` is reachable through contributing components below `node`.
  bool HasContributingStacktrace(std::uint32_t node) const;
  /// Sentry's `description`: the longest path of major component names among contributing ones.
  std::string Description(std::uint32_t node) const;
  /// Sentry's snapshot layout of the tree, for debugging.
  std::string Render(std::uint32_t node, const Resolver& resolve, int indent) const;
  /// A structural fingerprint of a subtree (Sentry compares component reprs).
  std::string Repr(std::uint32_t node, const Resolver& resolve) const;

 private:
  void LongestNamedPath(std::uint32_t node, std::vector<std::string_view>& current,
                        std::vector<std::string_view>& best) const;

  std::vector<CNode> nodes_;
  std::vector<std::uint32_t> children_;
  std::vector<CValue> values_;
};

}  // namespace rookery::grouping::detail
