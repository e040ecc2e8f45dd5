#include "registry/model.hpp"

#include <array>
#include <utility>

namespace licgate::registry {

namespace {

// Looks `text` up in a table of (value, wire name) pairs; the error names
// what was being parsed and the words that would have been accepted.
template <typename E, std::size_t N>
Result<E> parseName(const std::array<std::pair<E, std::string_view>, N>& table,
                    std::string_view text, std::string_view what) {
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
std::string_view nameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [candidate, name] : table) {
    if (candidate == value) {
      return name;
    }
  }
  return "unknown";
}

constexpr std::array<std::pair<LicenceStatus, std::string_view>, 3> kStatusNames{{
    {LicenceStatus::kActive, "active"},
    {LicenceStatus::kSuspended, "suspended"},
    {LicenceStatus::kTerminated, "terminated"},
}};

constexpr std::array<std::pair<NumberKind, std::string_view>, 3> kNumberKindNames{{
    {NumberKind::kActivity, "activity"},
    {NumberKind::kExportImport, "export-import"},
    {NumberKind::kLegacy, "legacy"},
}};

constexpr std::array<std::pair<IdScheme, std::string_view>, 3> kIdSchemeNames{{
    {IdScheme::kKzIin, "kz-iin"},
    {IdScheme::kKzBin, "kz-bin"},
    {IdScheme::kCzIco, "cz-ico"},
}};

}  // namespace

std::string_view statusName(LicenceStatus status) {
  return nameOf(kStatusNames, status);
}

Result<LicenceStatus> parseStatus(std::string_view text) {
  return parseName(kStatusNames, text, "status");
}

std::string_view numberKindName(NumberKind kind) {
  return nameOf(kNumberKindNames, kind);
}

Result<NumberKind> parseNumberKind(std::string_view text) {
  return parseName(kNumberKindNames, text, "number kind");
}

std::string_view idSchemeName(IdScheme scheme) {
  return nameOf(kIdSchemeNames, scheme);
}

Result<IdScheme> parseIdScheme(std::string_view text) {
  return parseName(kIdSchemeNames, text, "holder id scheme");
}

}  // namespace licgate::registry
