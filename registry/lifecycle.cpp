// The lifecycle of licences and annexes as two tables, state x event.
//
// The tables are the rule (DESIGN.md, "The register"); the handlers below
// them only build the licence that an allowed event leaves behind. Keeping
// the verdicts in data makes the whole rule readable in one place and lets
// the tests walk every cell.
#include "registry/lifecycle.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

namespace licgate::registry {

namespace {

enum class Verdict : std::uint8_t {
  kAllow,
  kUnknown,  // nothing to act on: kUnknownLicence / kUnknownAnnex
  kExists,   // issuing a number that is taken: kConflict
  kIllegal,  // kIllegalTransition with `why`
};

// The status the licence (or annex) has after an allowed event.
enum class Next : std::uint8_t { kSame, kActive, kSuspended, kTerminated, kImported };

struct Rule {
  Verdict verdict;
  Next next;
  std::string_view why;  // completes "<event>: licence N ..." for kIllegal
};

constexpr Rule allow(Next next) {
  return Rule{Verdict::kAllow, next, {}};
}
constexpr Rule illegal(std::string_view why) {
  return Rule{Verdict::kIllegal, Next::kSame, why};
}
constexpr Rule kUnknown{Verdict::kUnknown, Next::kSame, {}};
constexpr Rule kExists{Verdict::kExists, Next::kSame, {}};

// Rows: no licence, active, suspended, terminated.
constexpr std::array<EventType, 7> kLicenceColumns{
    EventType::kIssue,     EventType::kReissue,   EventType::kSuspend, EventType::kResume,
    EventType::kTerminate, EventType::kDuplicate, EventType::kImport,
};
constexpr Rule kLicenceTable[4][7] = {
    {allow(Next::kActive), kUnknown, kUnknown, kUnknown, kUnknown, kUnknown,
     allow(Next::kImported)},
    {kExists, allow(Next::kSame), allow(Next::kSuspended), illegal("is active, not suspended"),
     allow(Next::kTerminated), allow(Next::kSame), allow(Next::kImported)},
    {kExists, illegal("is suspended; only an active licence is reissued"),
     illegal("is already suspended"), allow(Next::kActive), allow(Next::kTerminated),
     allow(Next::kSame), allow(Next::kImported)},
    {kExists, illegal("is terminated; only an active licence is reissued"),
     illegal("is terminated; only an active licence is suspended"),
     illegal("is terminated, not suspended"), illegal("is already terminated"),
     illegal("is terminated; a terminated licence gets no duplicate"), allow(Next::kImported)},
};

// Rows: no annex, active, suspended, terminated. The licence itself must be
// active or suspended (checked before the table).
constexpr std::array<EventType, 5> kAnnexColumns{
    EventType::kAnnexIssue,     EventType::kAnnexSuspend, EventType::kAnnexResume,
    EventType::kAnnexTerminate, EventType::kAnnexImport,
};
constexpr Rule kAnnexTable[4][5] = {
    {allow(Next::kActive), kUnknown, kUnknown, kUnknown, allow(Next::kImported)},
    {kExists, allow(Next::kSuspended), illegal("is active, not suspended"),
     allow(Next::kTerminated), allow(Next::kImported)},
    {kExists, illegal("is already suspended"), allow(Next::kActive), allow(Next::kTerminated),
     allow(Next::kImported)},
    {kExists, illegal("is terminated; only an active annex is suspended"),
     illegal("is terminated, not suspended"), illegal("is already terminated"),
     allow(Next::kImported)},
};

int rowOf(const LicenceStatus* status) {
  return status == nullptr ? 0 : 1 + static_cast<int>(*status);
}

template <std::size_t N>
const Rule& ruleFor(const Rule (&table)[4][N], const std::array<EventType, N>& columns, int row,
                    EventType type) {
  auto column = std::find(columns.begin(), columns.end(), type) - columns.begin();
  return table[row][column];
}

std::string label(const Event& event) {
  return std::string(eventTypeName(event.type)) + ": ";
}

std::string licenceLabel(const Event& event) {
  return label(event) + "licence " + event.licence_number;
}

std::string annexLabel(const Event& event) {
  return label(event) + "annex " + event.annex_number + " of licence " + event.licence_number;
}

// kImported is decided by the import handlers, from the event.
LicenceStatus statusAfter(Next next, LicenceStatus current) {
  switch (next) {
    case Next::kSame:
      return current;
    case Next::kActive:
      return LicenceStatus::kActive;
    case Next::kSuspended:
      return LicenceStatus::kSuspended;
    case Next::kTerminated:
      return LicenceStatus::kTerminated;
    case Next::kImported:
      return current;
  }
  return current;
}

// A source version that is a plain number can be ordered; any other label
// ("", "2021-a") cannot, and then only the content decides.
std::optional<std::uint64_t> parseVersion(const std::string& version) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), value);
  if (version.empty() || ec != std::errc{} || end != version.data() + version.size()) {
    return std::nullopt;
  }
  return value;
}

void terminateAnnexes(Licence& licence) {
  for (Annex& annex : licence.annexes) {
    annex.status = LicenceStatus::kTerminated;
  }
}

// The licence an import describes, on top of what the register holds (the
// number's history: issued_on, revision, annexes stay).
Licence importedLicence(const Licence* base, const Event& event) {
  Licence licence = base != nullptr ? *base : Licence{};
  licence.number = event.licence_number;
  licence.kind = event.number_kind;
  licence.licensor = event.licensor;
  licence.activity_code = event.activity_code;
  licence.holder = event.holder.value_or(Holder{});
  licence.valid_from = event.valid_from.value_or(event.occurred_on);
  licence.valid_until = event.valid_until;
  licence.status = event.imported_status.value_or(LicenceStatus::kActive);
  licence.source_version = event.source_version;
  licence.suspended_until =
      licence.status == LicenceStatus::kSuspended ? event.suspended_until : std::optional<Date>{};
  if (base == nullptr) {
    licence.issued_on = licence.valid_from;
  }
  if (licence.status == LicenceStatus::kTerminated) {
    terminateAnnexes(licence);
  }
  return licence;
}

Annex importedAnnex(const Annex* base, const Event& event) {
  Annex annex;
  annex.number = event.annex_number;
  annex.name = event.annex_name;
  annex.address = event.annex_address;
  annex.status = event.annex_status.value_or(LicenceStatus::kActive);
  annex.issued_on =
      base != nullptr ? base->issued_on : event.valid_from.value_or(event.occurred_on);
  return annex;
}

const Annex* findAnnex(const Licence& licence, const std::string& number) {
  auto found = std::find_if(licence.annexes.begin(), licence.annexes.end(),
                            [&](const Annex& annex) { return annex.number == number; });
  return found == licence.annexes.end() ? nullptr : &*found;
}

void putAnnex(Licence& licence, Annex annex) {
  auto at = std::lower_bound(
      licence.annexes.begin(), licence.annexes.end(), annex.number,
      [](const Annex& held, const std::string& number) { return held.number < number; });
  if (at != licence.annexes.end() && at->number == annex.number) {
    *at = std::move(annex);
    return;
  }
  licence.annexes.insert(at, std::move(annex));
}

// The verdict of a table cell as an error, or nothing when it allows.
Status checkRule(const Rule& rule, const Event& event, bool annex) {
  std::string subject = annex ? annexLabel(event) : licenceLabel(event);
  switch (rule.verdict) {
    case Verdict::kAllow:
      return {};
    case Verdict::kUnknown:
      if (annex) {
        return makeError(ErrorCode::kUnknownAnnex, label(event) + "licence " +
                                                       event.licence_number + " has no annex " +
                                                       event.annex_number);
      }
      return makeError(ErrorCode::kUnknownLicence, subject + " is not in the register");
    case Verdict::kExists:
      return makeError(ErrorCode::kConflict, subject + " is already in the register");
    case Verdict::kIllegal:
      return makeError(ErrorCode::kIllegalTransition, subject + " " + std::string(rule.why));
  }
  return makeError(ErrorCode::kInternal, subject + ": no rule");
}

Status checkLicensor(const Licence& current, const Event& event) {
  if (current.licensor != event.licensor) {
    return makeError(ErrorCode::kConflict, licenceLabel(event) + " belongs to licensor " +
                                               current.licensor + ", not " + event.licensor);
  }
  return {};
}

// The rules an import adds to its table cell: the same kind of number, no
// stale version, and no way back from termination (a terminated licence
// ended by law; a source that still lists it as active is out of date).
Status checkImportOnto(const Licence& current, const Event& event) {
  if (current.kind != event.number_kind) {
    return makeError(ErrorCode::kConflict, licenceLabel(event) + " is held as " +
                                               std::string(numberKindName(current.kind)) +
                                               ", the import says " +
                                               std::string(numberKindName(event.number_kind)));
  }
  auto held = parseVersion(current.source_version);
  auto incoming = parseVersion(event.source_version);
  if (held && incoming && *incoming < *held) {
    return makeError(ErrorCode::kConflict,
                     licenceLabel(event) + " holds source version " + current.source_version +
                         ", the import carries older version " + event.source_version);
  }
  LicenceStatus imported = event.imported_status.value_or(LicenceStatus::kActive);
  if (current.status == LicenceStatus::kTerminated && imported != LicenceStatus::kTerminated) {
    return makeError(ErrorCode::kIllegalTransition,
                     licenceLabel(event) +
                         " is terminated and does not come back; the import says " +
                         std::string(statusName(imported)));
  }
  return {};
}

Result<Licence> applyImport(const std::optional<Licence>& current, const Event& event) {
  if (!current) {
    return importedLicence(nullptr, event);
  }
  LICGATE_RETURN_IF_ERROR(checkImportOnto(*current, event));
  if (importChangesNothing(*current, event)) {
    return *current;
  }
  Licence next = importedLicence(&*current, event);
  next.revision = current->revision + 1;
  return next;
}

Result<Licence> applyIssue(const Event& event) {
  if (event.licence_number.empty()) {
    return makeError(ErrorCode::kInternal, "issue: the register gave the licence no number");
  }
  Licence licence;
  licence.number = event.licence_number;
  licence.kind = event.number_kind;
  licence.licensor = event.licensor;
  licence.activity_code = event.activity_code;
  licence.holder = event.holder.value_or(Holder{});
  licence.issued_on = event.occurred_on;
  licence.valid_from = event.valid_from.value_or(event.occurred_on);
  licence.valid_until = event.valid_until;
  return licence;
}

Licence applyChange(const Licence& current, const Event& event, Next next) {
  Licence licence = current;
  licence.status = statusAfter(next, current.status);
  switch (event.type) {
    case EventType::kReissue:
      licence.holder = event.holder.value_or(current.holder);
      if (!event.activity_code.empty()) {
        licence.activity_code = event.activity_code;
      }
      ++licence.revision;
      break;
    case EventType::kSuspend:
      licence.suspended_until = event.suspended_until;
      break;
    case EventType::kResume:
      licence.suspended_until.reset();
      break;
    case EventType::kTerminate:
      licence.suspended_until.reset();
      terminateAnnexes(licence);
      break;
    default:
      break;
  }
  return licence;
}

Result<Licence> applyLicenceEvent(const std::optional<Licence>& current, const Event& event) {
  const LicenceStatus* status = current ? &current->status : nullptr;
  const Rule& rule = ruleFor(kLicenceTable, kLicenceColumns, rowOf(status), event.type);
  if (current && event.type != EventType::kIssue) {
    LICGATE_RETURN_IF_ERROR(checkLicensor(*current, event));
  }
  LICGATE_RETURN_IF_ERROR(checkRule(rule, event, false));

  switch (event.type) {
    case EventType::kIssue:
      return applyIssue(event);
    case EventType::kImport:
      return applyImport(current, event);
    default:
      return applyChange(*current, event, rule.next);
  }
}

// An annex changes only under a live licence. The one exception is an
// annex-import under a terminated licence: it records history (an
// establishment of a revoked licence) and the annex is kept as terminated,
// since terminating a licence terminates its annexes.
Status checkAnnexParent(const std::optional<Licence>& current, const Event& event) {
  if (!current) {
    return makeError(ErrorCode::kUnknownLicence, licenceLabel(event) + " is not in the register");
  }
  LICGATE_RETURN_IF_ERROR(checkLicensor(*current, event));
  if (current->status != LicenceStatus::kTerminated || event.type == EventType::kAnnexImport) {
    return {};
  }
  return makeError(ErrorCode::kIllegalTransition,
                   licenceLabel(event) + " is terminated; its annexes change no more");
}

// The annex-import as it applies under `licence`: under a terminated
// licence the annex can only be terminated, whatever the source says.
Event effectiveAnnexImport(const Licence& licence, const Event& event) {
  Event effective = event;
  if (licence.status == LicenceStatus::kTerminated) {
    effective.annex_status = LicenceStatus::kTerminated;
  }
  return effective;
}

Result<Licence> applyAnnexEvent(const std::optional<Licence>& current, const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkAnnexParent(current, event));
  const Annex* annex = findAnnex(*current, event.annex_number);
  const Rule& rule =
      ruleFor(kAnnexTable, kAnnexColumns, rowOf(annex ? &annex->status : nullptr), event.type);
  LICGATE_RETURN_IF_ERROR(checkRule(rule, event, true));
  if (event.annex_number.empty()) {
    return makeError(ErrorCode::kInternal, label(event) + "the register gave the annex no number");
  }

  Licence licence = *current;
  if (event.type == EventType::kAnnexImport) {
    Event effective = effectiveAnnexImport(licence, event);
    if (annex && annex->status == LicenceStatus::kTerminated &&
        effective.annex_status != LicenceStatus::kTerminated) {
      return makeError(ErrorCode::kIllegalTransition,
                       annexLabel(event) + " is terminated and does not come back");
    }
    putAnnex(licence, importedAnnex(annex, effective));
    return licence;
  }
  Annex next = annex ? *annex
                     : Annex{event.annex_number, event.annex_name, event.annex_address,
                             LicenceStatus::kActive, event.occurred_on};
  next.status = statusAfter(rule.next, next.status);
  putAnnex(licence, std::move(next));
  return licence;
}

}  // namespace

bool isAnnexEvent(EventType type) {
  return std::find(kAnnexColumns.begin(), kAnnexColumns.end(), type) != kAnnexColumns.end();
}

Result<Licence> applyEvent(const std::optional<Licence>& current, const Event& event) {
  if (event.type == EventType::kRefuse) {
    return makeError(ErrorCode::kInternal,
                     "refuse: a refusal changes no licence and is recorded without applyEvent");
  }
  if (isAnnexEvent(event.type)) {
    return applyAnnexEvent(current, event);
  }
  return applyLicenceEvent(current, event);
}

bool importChangesNothing(const Licence& current, const Event& event) {
  if (event.type == EventType::kAnnexImport) {
    const Annex* annex = findAnnex(current, event.annex_number);
    return annex != nullptr && importedAnnex(annex, effectiveAnnexImport(current, event)) == *annex;
  }
  if (event.type != EventType::kImport) {
    return false;
  }
  return importedLicence(&current, event) == current;
}

}  // namespace licgate::registry
