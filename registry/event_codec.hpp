// The canonical JSON form of an event: what the journal stores and what the
// JSON wire format (mapping/json_event.hpp) carries inside its envelope.
// docs/event-format.md describes it field by field.
#pragma once

#include <string>
#include <string_view>

#include "registry/event.hpp"

namespace licgate::registry {

// Writes every field that is set, in a fixed order, with dates as
// "YYYY-MM-DD". Never fails.
std::string encodeEvent(const Event& event);

// Reads the canonical JSON. Returns kMalformed when the text is not JSON or
// not an object, kInvalidField naming the field when a value has the wrong
// type or shape. Unknown fields are rejected (kInvalidField) so that a
// misspelt field is not silently ignored.
Result<Event> decodeEvent(std::string_view json);

}  // namespace licgate::registry
