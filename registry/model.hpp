// The register's model: licences, annexes, holders and licensors.
//
// These are plain values. The current state of a licence is the fold of its
// events (registry/lifecycle.hpp); the store keeps both the events and the
// folded state (registry/store.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/date.hpp"
#include "registry/result.hpp"

namespace licgate::registry {

// Status of a licence or of an annex. Refusals create no licence, so there is
// no "refused" status; they are recorded as events only.
enum class LicenceStatus : std::uint8_t { kActive, kSuspended, kTerminated };

std::string_view statusName(LicenceStatus status);  // "active", "suspended", "terminated"
Result<LicenceStatus> parseStatus(std::string_view text);

// How a licence got its number.
enum class NumberKind : std::uint8_t {
  kActivity,      // YYNNNNNN, given by the register
  kExportImport,  // GGGCCYYSSSNNNNNN, given by the register
  kLegacy,        // issued before the register or by another state system: kept as given
};

std::string_view numberKindName(NumberKind kind);  // "activity", "export-import", "legacy"
Result<NumberKind> parseNumberKind(std::string_view text);

// Identifier schemes of holders. Each has its own validation rule
// (registry/identifiers.hpp).
enum class IdScheme : std::uint8_t {
  kKzIin,  // Kazakh individual identification number, 12 digits
  kKzBin,  // Kazakh business identification number, 12 digits
  kCzIco,  // Czech company number (IČ), 8 digits
};

std::string_view idSchemeName(IdScheme scheme);  // "kz-iin", "kz-bin", "cz-ico"
Result<IdScheme> parseIdScheme(std::string_view text);

struct HolderId {
  IdScheme scheme;
  std::string value;

  bool operator==(const HolderId&) const = default;
};

// The licensee. A holder without an id is a natural person whom the source
// register masks; the register keeps such a licence but cannot search it by
// holder.
struct Holder {
  std::optional<HolderId> id;
  std::string name;
  std::string address;
  std::string legal_form;
  std::string country;  // ISO 3166-1 alpha-2, Latin letters

  bool operator==(const Holder&) const = default;
};

struct Annex {
  std::string number;  // "NNN", unique within its licence
  std::string name;    // the activity subtype or the site it covers
  std::string address;
  LicenceStatus status = LicenceStatus::kActive;
  Date issued_on{};

  bool operator==(const Annex&) const = default;
};

struct Licence {
  std::string number;
  NumberKind kind = NumberKind::kActivity;
  std::string licensor;       // licensor code, e.g. "ERU"
  std::string activity_code;  // e.g. "31"
  Holder holder;
  Date issued_on{};
  Date valid_from{};
  std::optional<Date> valid_until;  // empty: unlimited
  LicenceStatus status = LicenceStatus::kActive;
  int revision = 1;            // grows with each reissue or import update
  std::string source_version;  // the source system's version label (imports)
  std::optional<Date> suspended_until;
  std::vector<Annex> annexes;  // ordered by number

  bool operator==(const Licence&) const = default;
};

}  // namespace licgate::registry
