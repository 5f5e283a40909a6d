#include "rookery/core/md5.hpp"
#include "rookery/grouping/grouping.hpp"

namespace rookery::grouping {

GroupingResult ComputeInterimGrouping(const normalize::Event& event) {
  GroupingResult result;
  result.config = kInterimConfig;
  Md5 md5;
  if (!event.exceptions.empty()) {
    // A separator that cannot appear inside the values keeps ("ab","c") apart from ("a","bc").
    for (const auto& exception : event.exceptions) {
      md5.Update("exception\x1f");
      md5.Update(exception.type);
      md5.Update("\x1f");
      md5.Update(exception.value);
      md5.Update("\x1e");
      result.contributing += exception.type + ": " + exception.value + "\n";
    }
  } else if (!event.message.empty()) {
    md5.Update("message\x1f");
    md5.Update(event.message);
    result.contributing = event.message;
  } else {
    md5.Update("fallback\x1f");
    md5.Update(event.title);
    result.contributing = event.title;
  }
  result.hashes.push_back(md5.FinishHex());
  return result;
}

}  // namespace rookery::grouping
