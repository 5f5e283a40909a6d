#include <string>

#include "internal.hpp"

namespace rookery::normalize::detail {
namespace {

std::string SegmentText(const PathSegment& segment) {
  return segment.is_index ? std::to_string(segment.index) : std::string(segment.key);
}

Value Text(std::string_view text, Allocator& allocator) {
  return Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

// The object under `key`, made one if it is missing or something else.
Value& ChildObject(Value& parent, std::string_view key, Allocator& allocator) {
  for (auto& member : parent.GetObject()) {
    if (std::string_view(member.name.GetString(), member.name.GetStringLength()) == key) {
      if (!member.value.IsObject()) member.value.SetObject();
      return member.value;
    }
  }
  parent.AddMember(Text(key, allocator), Value(rapidjson::kObjectType), allocator);
  return parent.MemberEnd()[-1].value;
}

Value& ChildArray(Value& parent, const char* key, Allocator& allocator) {
  auto it = parent.FindMember(key);
  if (it != parent.MemberEnd()) {
    if (!it->value.IsArray()) it->value.SetArray();
    return it->value;
  }
  parent.AddMember(Value(rapidjson::StringRef(key)), Value(rapidjson::kArrayType), allocator);
  return parent.MemberEnd()[-1].value;
}

}  // namespace

MetaCollector::Entry& MetaCollector::At(const Path& path) {
  // Length-prefixed segments: keys may contain any character.
  std::string key;
  for (const PathSegment& segment : path) {
    const std::string text = SegmentText(segment);
    key += std::to_string(text.size());
    key += ':';
    key += text;
  }
  auto [it, inserted] = index_.try_emplace(std::move(key), entries_.size());
  if (inserted) {
    Entry& entry = entries_.emplace_back();
    entry.path.reserve(path.size());
    for (const PathSegment& segment : path) entry.path.push_back(SegmentText(segment));
  }
  return entries_[it->second];
}

void MetaCollector::AddRemark(const Path& path, Remark remark) {
  At(path).remarks.push_back(std::move(remark));
}

void MetaCollector::SetOriginalLength(const Path& path, std::size_t length) {
  Entry& entry = At(path);
  if (!entry.length) entry.length = length;
}

void MetaCollector::AddError(const Path& path, std::string_view kind, const Value* original) {
  Entry& entry = At(path);
  entry.errors.emplace_back(kind);
  if (original != nullptr && !entry.has_original) {
    entry.original.CopyFrom(*original, allocator_);
    entry.has_original = true;
  }
}

void MetaCollector::WriteInto(rapidjson::Document& document) {
  if (entries_.empty()) return;
  // Merged into what the SDK annotated itself (sentry-python sends `_meta` for its own trimming).
  Value& root = ChildObject(document, "_meta", allocator_);
  for (Entry& entry : entries_) {
    Value* node = &root;
    for (const std::string& segment : entry.path) node = &ChildObject(*node, segment, allocator_);
    Value& annotation = ChildObject(*node, "", allocator_);
    if (!entry.errors.empty()) {
      Value& errors = ChildArray(annotation, "err", allocator_);
      for (const std::string& kind : entry.errors) errors.PushBack(Text(kind, allocator_), allocator_);
    }
    if (!entry.remarks.empty()) {
      Value& remarks = ChildArray(annotation, "rem", allocator_);
      for (const Remark& remark : entry.remarks) {
        Value item(rapidjson::kArrayType);
        item.PushBack(Text(remark.rule_id, allocator_), allocator_);
        item.PushBack(Text(std::string_view(&remark.type, 1), allocator_), allocator_);
        if (remark.has_range) {
          item.PushBack(static_cast<std::uint64_t>(remark.start), allocator_);
          item.PushBack(static_cast<std::uint64_t>(remark.end), allocator_);
        }
        remarks.PushBack(item, allocator_);
      }
    }
    if (entry.length && !annotation.HasMember("len")) {
      annotation.AddMember("len", static_cast<std::uint64_t>(*entry.length), allocator_);
    }
    if (entry.has_original && !annotation.HasMember("val")) {
      annotation.AddMember("val", entry.original, allocator_);
    }
  }
  entries_.clear();
  index_.clear();
}

}  // namespace rookery::normalize::detail
