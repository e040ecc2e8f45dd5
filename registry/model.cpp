#include "registry/model.hpp"

#include "registry/name_table.hpp"

namespace licgate::registry {

namespace {

constexpr NameTable<LicenceStatus, 3> kStatusNames{{
    {LicenceStatus::kActive, "active"},
    {LicenceStatus::kSuspended, "suspended"},
    {LicenceStatus::kTerminated, "terminated"},
}};

constexpr NameTable<NumberKind, 3> kNumberKindNames{{
    {NumberKind::kActivity, "activity"},
    {NumberKind::kExportImport, "export-import"},
    {NumberKind::kLegacy, "legacy"},
}};

constexpr NameTable<IdScheme, 3> kIdSchemeNames{{
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
