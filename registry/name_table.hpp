// Tables of enum values and their wire names, shared by the model's and the
// events' name functions so that every enum parses and prints the same way.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "registry/result.hpp"

namespace licgate::registry {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

// Looks `text` up; the error names what was being parsed and the words that
// would have been accepted.
template <typename E, std::size_t N>
Result<E> parseName(const NameTable<E, N>& table, std::string_view text, std::string_view what) {
  std::string allowed;
  for (const auto& [value, name] : table) {
    if (name == text) {
      return value;
    }
    allowed += allowed.empty() ? "" : ", ";
    allowed += name;
  }
  return makeError(ErrorCode::kInvalidField,
                   std::string(what) + ": \"" + std::string(text) + "\" is not one of " + allowed);
}

template <typename E, std::size_t N>
std::string_view nameOf(const NameTable<E, N>& table, E value) {
  for (const auto& [candidate, name] : table) {
    if (candidate == value) {
      return name;
    }
  }
  return "unknown";
}

}  // namespace licgate::registry
