// Strict JSON parsing (mapping/json_strict.hpp). nlohmann's parser callback
// sees every key as it is read; the keys of each open object are kept on a
// stack so that a repeat is found at any depth without a second pass.
#include "mapping/json_strict.hpp"

#include <set>
#include <vector>

#include "registry/text.hpp"

namespace licgate::mapping {

using registry::ErrorCode;
using registry::makeError;
using registry::Result;

namespace {

// Parsing itself keeps no call stack per level, but writing a tree and
// comparing two are recursive: data nested a million levels deep, which a
// body of a few megabytes can hold, would overflow the stack of whoever
// later dumps it. Real data needs a handful of levels.
constexpr std::size_t kMaxDepth = 64;

// Thrown from the parser's callback, the one way to stop nlohmann's parser
// at once; caught in parseStrictJson.
struct TooDeep {
  std::string path;
};

// One open container while parsing.
struct Frame {
  bool is_array = false;
  std::string path;
  std::set<std::string> keys;  // objects: the keys read so far
  std::string key;             // objects: the key whose value is being read
  std::size_t index = 0;       // arrays: the element being read
};

class RepeatFinder {
 public:
  explicit RepeatFinder(std::string_view root_name) : root_name_(root_name) {}

  const std::string& firstRepeated() const { return repeated_; }

  bool onEvent(int /*depth*/, StrictJson::parse_event_t event, StrictJson& parsed) {
    using Event = StrictJson::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        if (frames_.size() == kMaxDepth) {
          throw TooDeep{childPath()};
        }
        frames_.push_back(Frame{event == Event::array_start, childPath(), {}, {}, 0});
        break;
      case Event::key:
        takeKey(parsed.get<std::string>());
        break;
      case Event::object_end:
      case Event::array_end:
        frames_.pop_back();
        advance();
        break;
      case Event::value:
        advance();
        break;
    }
    return true;
  }

  // The path of the value about to be read in the innermost container.
  std::string childPath() const {
    if (frames_.empty()) {
      return std::string(root_name_);
    }
    const Frame& frame = frames_.back();
    if (frame.is_array) {
      return frame.path + "[" + std::to_string(frame.index) + "]";
    }
    return memberPath(frame.path, frame.key);
  }

 private:
  void takeKey(std::string key) {
    Frame& frame = frames_.back();
    if (!frame.keys.insert(key).second && repeated_.empty()) {
      repeated_ = memberPath(frame.path, key);
    }
    frame.key = std::move(key);
  }

  void advance() {
    if (!frames_.empty() && frames_.back().is_array) {
      ++frames_.back().index;
    }
  }

  std::string_view root_name_;
  std::vector<Frame> frames_;
  std::string repeated_;
};

std::string describe(const StrictJson::exception& ex) {
  return registry::jsonErrorText(ex.what());
}

}  // namespace

std::string memberPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return std::string(parent) + "." + std::string(key);
}

Result<StrictJson> parseStrictJson(std::string_view text, std::string_view root_name) {
  RepeatFinder finder(root_name);
  StrictJson parsed;
  try {
    parsed = StrictJson::parse(
        text, [&finder](int depth, StrictJson::parse_event_t event, StrictJson& value) {
          return finder.onEvent(depth, event, value);
        });
  } catch (const StrictJson::parse_error& ex) {
    return makeError(ErrorCode::kMalformed, "not valid JSON: " + describe(ex));
  } catch (const StrictJson::out_of_range& ex) {
    // A number no double holds (1e400): valid JSON, but not data licgate
    // can keep or pass on. The parser stops before the value's event, so
    // the finder still points at it.
    const std::string path = finder.childPath();
    return makeError(ErrorCode::kInvalidField, (path.empty() ? "the value" : path) +
                                                   ": is a number no double holds (" +
                                                   describe(ex) + ")");
  } catch (const TooDeep& deep) {
    return makeError(ErrorCode::kInvalidField, (deep.path.empty() ? "the value" : deep.path) +
                                                   ": is nested more than " +
                                                   std::to_string(kMaxDepth) +
                                                   " levels deep, counting from the top of the "
                                                   "document");
  }
  if (!finder.firstRepeated().empty()) {
    return makeError(ErrorCode::kInvalidField, finder.firstRepeated() + ": is given twice");
  }
  return parsed;
}

}  // namespace licgate::mapping
