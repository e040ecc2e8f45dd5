// Licence events: the only way the register changes.
//
// An inbound event says what a licensor did (issued, suspended, ...). The
// register checks it against the lifecycle, gives numbers where the event
// asks for them, and records it in the journal with a register-wide sequence
// number. The current state of every licence is the fold of its events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/model.hpp"

namespace licgate::registry {

enum class EventType : std::uint8_t {
  kIssue,    // a new licence; the register gives the number
  kRefuse,   // a reasoned refusal of an application; creates no licence
  kReissue,  // re-formalisation: new holder details, same number, new revision
  kSuspend,
  kResume,
  kTerminate,  // terminates the annexes too
  kDuplicate,  // a copy of a lost document; no state change
  kImport,     // a licence from before the register or from another system
  kAnnexIssue,
  kAnnexSuspend,
  kAnnexResume,
  kAnnexTerminate,
  kAnnexImport,  // an annex of an imported licence, with its own number
};

inline constexpr EventType kAllEventTypes[] = {
    EventType::kIssue,        EventType::kRefuse,      EventType::kReissue,
    EventType::kSuspend,      EventType::kResume,      EventType::kTerminate,
    EventType::kDuplicate,    EventType::kImport,      EventType::kAnnexIssue,
    EventType::kAnnexSuspend, EventType::kAnnexResume, EventType::kAnnexTerminate,
    EventType::kAnnexImport,
};

// Wire names: "issue", "refuse", "reissue", "suspend", "resume", "terminate",
// "duplicate", "import", "annex-issue", "annex-suspend", "annex-resume",
// "annex-terminate", "annex-import".
std::string_view eventTypeName(EventType type);
Result<EventType> parseEventType(std::string_view text);

// One event as a sender states it. Which fields an event needs depends on its
// type; registry/validation.hpp checks them (docs/event-format.md lists them).
struct Event {
  EventType type = EventType::kIssue;
  std::string licensor;
  Date occurred_on{};  // the legal date of the act

  // The licence the event is about. Empty for issue (the register gives the
  // number) and for refuse.
  std::string licence_number;

  // Issue: which numbering; export/import licences also need the goods list
  // number (3 digits) and the seal code of the authorised body (3 characters).
  NumberKind number_kind = NumberKind::kActivity;
  std::string goods_list;
  std::string seal_code;

  // Issue, reissue and import: the licence's content.
  std::optional<Holder> holder;
  std::string activity_code;
  std::optional<Date> valid_from;
  std::optional<Date> valid_until;

  // Import: the state the licence is in and the source's version label.
  std::optional<LicenceStatus> imported_status;
  std::string source_version;

  // Refuse: the application refused; suspend, terminate, refuse: the grounds.
  std::string application_ref;
  std::string reason;
  std::optional<Date> suspended_until;

  // Annex events. annex-issue gets its number from the register; the others
  // name the annex. annex-import keeps the number it carries.
  std::string annex_number;
  std::string annex_name;
  std::string annex_address;
  std::optional<LicenceStatus> annex_status;  // annex-import only

  bool operator==(const Event&) const = default;
};

// A recorded event: what the journal holds.
struct JournalEntry {
  std::uint64_t sequence = 0;  // register-wide, ascending, no gaps on commit
  EventType type = EventType::kIssue;
  std::string licensor;
  std::string licence_number;  // given by the register for issue
  std::string annex_number;
  std::string sender_system;
  std::string message_id;
  std::string recorded_at;  // UTC, ISO 8601 with seconds
  std::string payload;      // the event as canonical JSON (registry/event_codec.hpp)
};

}  // namespace licgate::registry
