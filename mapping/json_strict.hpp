// Strict JSON parsing for the messages mapping/ reads into a tree (the
// conformity flow's, mapping/conformity.hpp): a key given twice anywhere is
// refused, since RFC 8259 section 4 leaves its meaning to the reader and a
// sender and licgate must never read one message two ways.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "registry/result.hpp"

namespace licgate::mapping {

// Members keep the order they were sent in, so that data passed on as it is
// reads as it was written.
using StrictJson = nlohmann::ordered_json;

// Parses `text` (UTF-8). Errors:
// - kMalformed: not JSON, with nlohmann's description and its line and
//   column ("syntax error while parsing object ... at line 2, column 5");
// - kInvalidField: a key given twice, named by its path under `root_name`
//   ("applicant.name: is given twice"; "data.site" for a nested one; the
//   path starts at the key when `root_name` is empty), or objects and
//   arrays nested more than 64 levels deep, named by the path of the first
//   one too deep.
registry::Result<StrictJson> parseStrictJson(std::string_view text, std::string_view root_name);

// The path of member `key` in the object at `parent` ("" for the root).
std::string memberPath(std::string_view parent, std::string_view key);

}  // namespace licgate::mapping
