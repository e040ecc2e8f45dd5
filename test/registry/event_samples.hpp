// Valid events of every type, for the registry tests to start from and
// change one field at a time.
#pragma once

#include <string>

#include "registry/date.hpp"
#include "registry/event.hpp"

namespace licgate::registry::samples {

inline Date day(int year, unsigned month, unsigned day_of_month) {
  return Date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day_of_month}};
}

inline Holder sampleHolder() {
  Holder holder;
  holder.id = HolderId{IdScheme::kKzBin, "150440000003"};
  holder.name = "TOO Kazakh Heat";
  holder.address = "Astana, Mangilik El 8";
  holder.legal_form = "TOO";
  holder.country = "KZ";
  return holder;
}

inline Event issueEvent(Date occurred_on = day(2026, 3, 2)) {
  Event event;
  event.type = EventType::kIssue;
  event.licensor = "KZ-ENERGY";
  event.occurred_on = occurred_on;
  event.holder = sampleHolder();
  event.activity_code = "31";
  return event;
}

// An event about an existing licence: suspend, resume, terminate, duplicate.
inline Event licenceEvent(EventType type, const std::string& number,
                          Date occurred_on = day(2026, 4, 1)) {
  Event event;
  event.type = type;
  event.licensor = "KZ-ENERGY";
  event.occurred_on = occurred_on;
  event.licence_number = number;
  if (type == EventType::kSuspend || type == EventType::kTerminate) {
    event.reason = "inspection found the boiler house unsafe";
  }
  if (type == EventType::kReissue) {
    event.holder = sampleHolder();
    event.holder->name = "TOO Kazakh Heat and Power";
  }
  return event;
}

inline Event refuseEvent() {
  Event event;
  event.type = EventType::kRefuse;
  event.licensor = "KZ-ENERGY";
  event.occurred_on = day(2026, 3, 3);
  event.application_ref = "APP-2026-0042";
  event.reason = "the application lacks the fire safety conclusion";
  return event;
}

inline Event importEvent(const std::string& number, LicenceStatus status,
                         const std::string& version = "3") {
  Event event;
  event.type = EventType::kImport;
  event.licensor = "ERU";
  event.occurred_on = day(2021, 5, 28);
  event.licence_number = number;
  event.number_kind = NumberKind::kLegacy;
  event.holder = Holder{HolderId{IdScheme::kCzIco, "00637076"}, "Obec Velký Karlov",
                        "Velký Karlov 126, 671 28", "", "CZ"};
  event.activity_code = "31";
  event.valid_from = day(2001, 7, 1);
  event.valid_until = day(2026, 7, 16);
  event.imported_status = status;
  event.source_version = version;
  return event;
}

inline Event annexEvent(EventType type, const std::string& licence_number,
                        const std::string& annex_number,
                        const std::string& licensor = "KZ-ENERGY") {
  Event event;
  event.type = type;
  event.licensor = licensor;
  event.occurred_on = day(2026, 4, 2);
  event.licence_number = licence_number;
  event.annex_number = annex_number;
  if (type == EventType::kAnnexIssue || type == EventType::kAnnexImport) {
    event.annex_name = "Centrální kotelna";
    event.annex_address = "Velký Karlov 72";
  }
  if (type == EventType::kAnnexSuspend || type == EventType::kAnnexTerminate) {
    event.reason = "the site was closed";
  }
  if (type == EventType::kAnnexImport) {
    event.annex_status = LicenceStatus::kActive;
  }
  return event;
}

// A valid event of any type for licence `number` (and annex "001").
inline Event anyEvent(EventType type, const std::string& number) {
  switch (type) {
    case EventType::kIssue: {
      Event event = issueEvent();
      event.licence_number = number;  // as the store fills it in
      return event;
    }
    case EventType::kRefuse:
      return refuseEvent();
    case EventType::kImport: {
      Event event = importEvent(number, LicenceStatus::kActive);
      event.licensor = "KZ-ENERGY";
      event.number_kind = NumberKind::kActivity;
      return event;
    }
    case EventType::kAnnexIssue:
    case EventType::kAnnexSuspend:
    case EventType::kAnnexResume:
    case EventType::kAnnexTerminate:
    case EventType::kAnnexImport:
      return annexEvent(type, number, "001");
    default:
      return licenceEvent(type, number);
  }
}

}  // namespace licgate::registry::samples
