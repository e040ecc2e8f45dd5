// The strict YAML reading that every configuration file of licgate shares
// (config/config.cpp, config/calendar.cpp): unknown and repeated keys are
// problems, every problem names its key path and value, and problems are
// collected so that one run shows them all. Internal to config/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "registry/result.hpp"

namespace licgate::config {

// An integer range and what a value in it is called in messages.
struct Range {
  std::int64_t min;
  std::int64_t max;
  std::string_view noun;  // "a port", "a number of milliseconds", ...
};

inline std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) {
      out += separator;
    }
    out += part;
  }
  return out;
}

// The node as it reads in a message: a scalar quoted when it is not a
// number, otherwise its kind.
inline std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    std::int64_t ignored = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ignored);
    if (ec == std::errc() && end == text.data() + text.size()) {
      return text;
    }
    return "\"" + text + "\"";
  }
  if (node.IsSequence()) {
    return "a list";
  }
  if (node.IsMap()) {
    return "a mapping";
  }
  return "empty";
}

inline std::string childPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// Walks one document, remembering every problem with the key path it was
// found at.
class Reader {
 public:
  void fail(const std::string& path, const std::string& what) {
    problems_.push_back((path.empty() ? std::string("(document)") : path) + ": " + what);
    refused_.insert(path);
  }

  const std::vector<std::string>& problems() const { return problems_; }

  // Every problem, one line each prefixed with `origin` (the file), as one
  // kInvalidField error; ok when there is none.
  registry::Status result(std::string_view origin) const {
    if (problems_.empty()) {
      return {};
    }
    std::vector<std::string> lines;
    for (const auto& problem : problems_) {
      lines.push_back(std::string(origin) + ": " + problem);
    }
    return registry::makeError(registry::ErrorCode::kInvalidField, join(lines, "\n"));
  }

  // True when a problem was reported at exactly `path` (a key, or a
  // section not read at all): checks across sections skip refused values.
  bool refused(const std::string& path) const { return refused_.contains(path); }

  // True when a problem was reported at `path` or anywhere inside it
  // (`path.key`, `path[0]`).
  bool refusedWithin(const std::string& path) const {
    for (auto at = refused_.lower_bound(path); at != refused_.end() && at->starts_with(path);
         ++at) {
      if (at->size() == path.size() || (*at)[path.size()] == '.' || (*at)[path.size()] == '[') {
        return true;
      }
    }
    return false;
  }

  // True when `node` is a mapping; each of its keys not in `known`, and
  // each key given more than once, is a problem. yaml-cpp keeps a repeated
  // key as a second entry and a look-up finds the first, so without this
  // check the second value would be ignored without a word.
  bool checkMap(const YAML::Node& node, const std::string& path,
                std::initializer_list<std::string_view> known) {
    if (node.IsNull()) {
      fail(path, "is empty");
      return false;
    }
    if (!node.IsMap()) {
      fail(path, describe(node) + " is not a mapping");
      return false;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      if (!seen.insert(key).second) {
        fail(childPath(path, key), "given twice");
      } else if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::vector<std::string> names(known.begin(), known.end());
        fail(childPath(path, key), "unknown key (known: " + join(names, ", ") + ")");
      }
    }
    return true;
  }

  // A section's mapping, checked as checkMap does; false when the section
  // is absent or refused. A section given with no keys (`http:` alone) is
  // refused like a key given empty: it is far more likely a section whose
  // keys were lost than a wish for the defaults.
  bool readSection(const YAML::Node& node, const std::string& path,
                   std::initializer_list<std::string_view> known) {
    if (!node.IsDefined()) {
      return false;
    }
    if (node.IsNull()) {
      fail(path, "is empty; leave the section out to take its defaults");
      return false;
    }
    return checkMap(node, path, known);
  }

  // The readers below leave `out` as it is when the key is absent or its
  // value is refused, and return false when they reported a problem. A
  // check between two values runs only when both were read: after a refused
  // value `out` still holds the default, and a message quoting it would
  // blame a value the file never gave.
  //
  // A key given without a value (`port:`, `port: ~`) or with an empty text
  // (`port: ""`) is refused, not taken for an absent key: the file says the
  // key is meant to be set, and taking the default would hide that it is
  // not. The message names the default that leaving the key out gives.

  bool readString(const YAML::Node& map, const std::string& path, std::string_view key,
                  std::string& out, bool required = false) {
    const YAML::Node node = map[std::string(key)];
    const std::string where = childPath(path, key);
    if (!node.IsDefined()) {
      return reportAbsent(where, required);
    }
    if (isEmpty(node)) {
      failEmpty(where, required, out.empty() ? "none" : "\"" + out + "\"");
      return false;
    }
    if (!node.IsScalar()) {
      fail(where, describe(node) + " is not a text");
      return false;
    }
    out = node.Scalar();
    return true;
  }

  template <typename Int>
  bool readInteger(const YAML::Node& map, const std::string& path, std::string_view key,
                   const Range& range, Int& out) {
    const YAML::Node node = map[std::string(key)];
    const std::string where = childPath(path, key);
    if (!node.IsDefined()) {
      return true;
    }
    if (isEmpty(node)) {
      failEmpty(where, false, std::to_string(out));
      return false;
    }
    std::int64_t value = 0;
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!node.IsScalar() || ec != std::errc() || end != text.data() + text.size() ||
        value < range.min || value > range.max) {
      fail(where, describe(node) + " is not " + std::string(range.noun) + " (" +
                      std::to_string(range.min) + ".." + std::to_string(range.max) + ")");
      return false;
    }
    out = static_cast<Int>(value);
    return true;
  }

  bool readBool(const YAML::Node& map, const std::string& path, std::string_view key, bool& out) {
    const YAML::Node node = map[std::string(key)];
    const std::string where = childPath(path, key);
    if (!node.IsDefined()) {
      return true;
    }
    if (isEmpty(node)) {
      failEmpty(where, false, out ? "true" : "false");
      return false;
    }
    // yaml-cpp decodes a quoted "false" as readily as a plain false; its
    // tag tells them apart ("!" for a quoted scalar, "?" for a plain one),
    // and a quoted value is a text, not a boolean (YAML 1.2 section 6.9.1,
    // non-specific tags).
    if (node.IsScalar() && node.Tag() == "!") {
      fail(where, describe(node) + " is quoted, so a text, not true or false; write it unquoted");
      return false;
    }
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      fail(where, describe(node) + " is not true or false");
      return false;
    }
    out = value;
    return true;
  }

  // A list of non-empty texts. A single text is refused, not taken as a
  // list of one: no key takes a value of another type than its own.
  bool readStringList(const YAML::Node& map, const std::string& path, std::string_view key,
                      std::vector<std::string>& out, bool required = false) {
    const YAML::Node node = map[std::string(key)];
    const std::string where = childPath(path, key);
    if (!node.IsDefined()) {
      return reportAbsent(where, required);
    }
    if (isEmpty(node)) {
      failEmpty(where, required, "[" + join(out, ", ") + "]");
      return false;
    }
    if (!node.IsSequence()) {
      fail(where, describe(node) + " is not a list");
      return false;
    }
    // Only a list without a bad item is taken: with one left out, the
    // positions of the others would no longer match the file.
    std::vector<std::string> items;
    bool all_good = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = where + "[" + std::to_string(i) + "]";
      if (isEmpty(node[i])) {
        fail(item_path, "is empty");
        all_good = false;
        continue;
      }
      if (!node[i].IsScalar()) {
        fail(item_path, describe(node[i]) + " is not a text");
        all_good = false;
        continue;
      }
      items.push_back(node[i].Scalar());
    }
    if (all_good) {
      out = std::move(items);
    }
    return all_good;
  }

  // `value` is one of `allowed`; otherwise a problem naming them.
  template <std::size_t N>
  bool checkOneOf(const std::string& where, const std::string& value,
                  const std::string_view (&allowed)[N]) {
    if (std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed)) {
      return true;
    }
    std::vector<std::string> names(std::begin(allowed), std::end(allowed));
    fail(where, "\"" + value + "\" is not one of " + join(names, ", "));
    return false;
  }

 private:
  static bool isEmpty(const YAML::Node& node) {
    return node.IsNull() || (node.IsScalar() && node.Scalar().empty());
  }

  bool reportAbsent(const std::string& where, bool required) {
    if (required) {
      fail(where, "is required");
    }
    return !required;
  }

  // `default_text` is what leaving the key out gives, as a message shows it.
  void failEmpty(const std::string& where, bool required, const std::string& default_text) {
    if (required) {
      fail(where, "is empty; it is required");
      return;
    }
    fail(where, "is empty; leave the key out to take the default (" + default_text + ")");
  }

  std::vector<std::string> problems_;
  std::set<std::string> refused_;
};

inline registry::Result<YAML::Node> parseYaml(std::string_view yaml_text, std::string_view origin) {
  try {
    return YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return registry::makeError(registry::ErrorCode::kMalformed,
                               std::string(origin) + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": not YAML: " + e.msg);
  }
}

}  // namespace licgate::config
