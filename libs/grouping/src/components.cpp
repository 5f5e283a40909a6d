#include "components.hpp"

#include <algorithm>

#include "rookery/core/md5.hpp"

namespace rookery::grouping::detail {

std::string_view CidName(Cid id) {
  switch (id) {
    case Cid::kApp: return "app";
    case Cid::kSystem: return "system";
    case Cid::kDefault: return "default";
    case Cid::kChainedException: return "chained-exception";
    case Cid::kException: return "exception";
    case Cid::kStacktrace: return "stacktrace";
    case Cid::kFrame: return "frame";
    case Cid::kModule: return "module";
    case Cid::kFilename: return "filename";
    case Cid::kFunction: return "function";
    case Cid::kContextLine: return "context-line";
    case Cid::kType: return "type";
    case Cid::kValue: return "value";
    case Cid::kNsError: return "ns-error";
    case Cid::kNsErrorDomain: return "ns-error-domain";
    case Cid::kNsErrorCode: return "ns-error-code";
    case Cid::kThreads: return "threads";
    case Cid::kMessage: return "message";
    case Cid::kTemplate: return "template";
  }
  return "?";
}

namespace {

// Names Sentry shows for "major" components (KNOWN_MAJOR_COMPONENT_NAMES).
std::string_view MajorName(Cid id) {
  switch (id) {
    case Cid::kApp: return "in-app";
    case Cid::kException: return "exception";
    case Cid::kStacktrace: return "stack-trace";
    case Cid::kThreads: return "thread";
    case Cid::kMessage: return "message";
    default: return {};
  }
}

}  // namespace

void Tree::Reserve(std::size_t nodes) {
  nodes_.reserve(nodes);
  children_.reserve(nodes);
  values_.reserve(nodes);
}

std::uint32_t Tree::Leaf(Cid id, std::initializer_list<CValue> values) {
  CNode node;
  node.id = id;
  node.is_leaf = true;
  node.begin = static_cast<std::uint32_t>(values_.size());
  node.count = static_cast<std::uint32_t>(values.size());
  node.contributes = values.size() > 0;
  values_.insert(values_.end(), values.begin(), values.end());
  nodes_.push_back(node);
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

std::uint32_t Tree::Empty(Cid id) {
  return Leaf(id, {});
}

std::uint32_t Tree::Parent(Cid id, const std::uint32_t* children, std::size_t count) {
  CNode node;
  node.id = id;
  node.begin = static_cast<std::uint32_t>(children_.size());
  node.count = static_cast<std::uint32_t>(count);
  for (std::size_t i = 0; i < count; ++i) {
    node.contributes = node.contributes || nodes_[children[i]].contributes;
    children_.push_back(children[i]);
  }
  nodes_.push_back(node);
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void Tree::SetValue(std::uint32_t node, CValue value) {
  CNode& n = nodes_[node];
  n.begin = static_cast<std::uint32_t>(values_.size());
  n.count = 1;
  n.contributes = true;
  values_.push_back(value);
}

void Tree::Update(std::uint32_t node, bool contributes, std::string_view hint) {
  nodes_[node].contributes = contributes;
  if (!hint.empty()) nodes_[node].hint = hint;
}

void Tree::IterValues(std::uint32_t node, const Resolver& resolve,
                      const std::function<void(std::string_view)>& sink) const {
  const CNode& n = nodes_[node];
  if (!n.contributes) return;
  if (n.is_leaf) {
    for (std::uint32_t i = 0; i < n.count; ++i) {
      const CValue& value = values_[n.begin + i];
      sink(value.lazy >= 0 ? resolve(value.lazy) : value.text);
    }
    return;
  }
  for (std::uint32_t i = 0; i < n.count; ++i) IterValues(children_[n.begin + i], resolve, sink);
}

std::string Tree::Hash(std::uint32_t node, const Resolver& resolve) const {
  Md5 md5;
  IterValues(node, resolve, [&md5](std::string_view value) { md5.Update(value); });
  return md5.FinishHex();
}

bool Tree::HasContributingStacktrace(std::uint32_t node) const {
  const CNode& n = nodes_[node];
  if (n.is_leaf) return false;
  for (std::uint32_t i = 0; i < n.count; ++i) {
    const std::uint32_t child = children_[n.begin + i];
    if (!nodes_[child].contributes) continue;
    if (nodes_[child].id == Cid::kStacktrace) return true;
    if (HasContributingStacktrace(child)) return true;
  }
  return false;
}

void Tree::LongestNamedPath(std::uint32_t node, std::vector<std::string_view>& current,
                            std::vector<std::string_view>& best) const {
  const CNode& n = nodes_[node];
  const std::string_view name = MajorName(n.id);
  if (!name.empty()) current.push_back(name);
  if (!n.is_leaf) {
    for (std::uint32_t i = 0; i < n.count; ++i) {
      const std::uint32_t child = children_[n.begin + i];
      if (nodes_[child].contributes) LongestNamedPath(child, current, best);
    }
  }
  if (current.size() > best.size() || (current.size() == best.size() && current > best)) best = current;
  if (!name.empty()) current.pop_back();
}

std::string Tree::Description(std::uint32_t node) const {
  // The longest (then lexicographically greatest) path of major names, as Sentry sorts them.
  std::vector<std::string_view> current;
  std::vector<std::string_view> best;
  LongestNamedPath(node, current, best);
  if (!best.empty()) {
    std::string out;
    for (const auto name : best) {
      if (!out.empty()) out += ' ';
      out += name;
    }
    return out;
  }
  const std::string_view name = MajorName(nodes_[node].id);
  return std::string(name.empty() ? CidName(nodes_[node].id) : name);
}

std::string Tree::Render(std::uint32_t node, const Resolver& resolve, int indent) const {
  const CNode& n = nodes_[node];
  // Like Sentry's snapshots, components without values are left out.
  if (n.count == 0 && indent > 0) return {};
  std::string out(static_cast<std::size_t>(indent), ' ');
  out += CidName(n.id);
  if (n.contributes) out += '*';
  if (!n.hint.empty()) {
    out += " (";
    out += n.hint;
    out += ')';
  }
  out += '\n';
  for (std::uint32_t i = 0; i < n.count; ++i) {
    if (n.is_leaf) {
      const CValue& value = values_[n.begin + i];
      out += std::string(static_cast<std::size_t>(indent + 2), ' ');
      out += '"';
      for (const char c : value.lazy >= 0 ? resolve(value.lazy) : value.text) {
        switch (c) {
          case '"': out += "\\\""; break;
          case '\\': out += "\\\\"; break;
          case '\n': out += "\\n"; break;
          case '\r': out += "\\r"; break;
          case '\t': out += "\\t"; break;
          default: out += c; break;
        }
      }
      out += "\"\n";
    } else {
      out += Render(children_[n.begin + i], resolve, indent + 2);
    }
  }
  return out;
}

std::string Tree::Repr(std::uint32_t node, const Resolver& resolve) const {
  const CNode& n = nodes_[node];
  std::string out(CidName(n.id));
  out += n.contributes ? "(1," : "(0,";
  out += n.hint;
  out += ",[";
  for (std::uint32_t i = 0; i < n.count; ++i) {
    if (n.is_leaf) {
      const CValue& value = values_[n.begin + i];
      const std::string_view text = value.lazy >= 0 ? resolve(value.lazy) : value.text;
      out += std::to_string(text.size());
      out += ':';
      out += text;
    } else {
      out += Repr(children_[n.begin + i], resolve);
    }
    out += ';';
  }
  out += "])";
  return out;
}

}  // namespace rookery::grouping::detail
