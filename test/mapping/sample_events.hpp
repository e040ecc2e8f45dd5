// One valid event of every type, with every field its type uses, for the
// format tests (XML round trip, XSD, inbound decoding).
#pragma once

#include <vector>

#include "registry/date.hpp"
#include "registry/event.hpp"

namespace licgate::mapping {

inline registry::Date sampleDate(int year, unsigned month, unsigned day) {
  return registry::Date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
}

inline registry::Holder sampleHolder() {
  registry::Holder holder;
  holder.id = registry::HolderId{registry::IdScheme::kKzBin, "040840001231"};
  holder.name = "ТОО «Қазақ Жылу» & Co <Алматы>";
  holder.address = "Алматы қ., Әуезов ауданы, 12";
  holder.legal_form = "ТОО";
  holder.country = "KZ";
  return holder;
}

inline registry::Event sampleEvent(registry::EventType type) {
  registry::Event event;
  event.type = type;
  event.licensor = "KZ-MIE";
  event.occurred_on = sampleDate(2024, 3, 1);
  event.licence_number = "24000017";
  return event;
}

inline std::vector<registry::Event> sampleLicenceEvents() {
  using registry::EventType;
  std::vector<registry::Event> events;

  registry::Event issue = sampleEvent(EventType::kIssue);
  issue.licence_number.clear();
  issue.number_kind = registry::NumberKind::kExportImport;
  issue.goods_list = "007";
  issue.seal_code = "A1B";
  issue.holder = sampleHolder();
  issue.activity_code = "31";
  issue.valid_from = sampleDate(2024, 3, 2);
  issue.valid_until = sampleDate(2029, 3, 1);
  events.push_back(issue);

  registry::Event refuse = sampleEvent(EventType::kRefuse);
  refuse.licence_number.clear();
  refuse.application_ref = "APP-2024-000113";
  refuse.reason = "incomplete application: no fire-safety conclusion";
  events.push_back(refuse);

  registry::Event reissue = sampleEvent(EventType::kReissue);
  reissue.holder = sampleHolder();
  reissue.holder->id = registry::HolderId{registry::IdScheme::kKzIin, "900101300017"};
  reissue.holder->legal_form.clear();
  events.push_back(reissue);

  registry::Event suspend = sampleEvent(EventType::kSuspend);
  suspend.reason = "inspection found a breach";
  suspend.suspended_until = sampleDate(2024, 6, 1);
  events.push_back(suspend);

  events.push_back(sampleEvent(EventType::kResume));

  registry::Event terminate = sampleEvent(EventType::kTerminate);
  terminate.reason = "holder's request";
  events.push_back(terminate);

  events.push_back(sampleEvent(EventType::kDuplicate));
  return events;
}

inline std::vector<registry::Event> sampleImportAndAnnexEvents() {
  using registry::EventType;
  std::vector<registry::Event> events;

  registry::Event import = sampleEvent(EventType::kImport);
  import.licensor = "CZ-ERU";
  import.licence_number = "310100016";
  import.number_kind = registry::NumberKind::kLegacy;
  import.holder =
      registry::Holder{registry::HolderId{registry::IdScheme::kCzIco, "00637076"},
                       "Obec Velký Karlov", "Velký Karlov 126, 671 28 Velký Karlov", "", "CZ"};
  import.activity_code = "31";
  import.valid_from = sampleDate(2001, 7, 1);
  import.valid_until = sampleDate(2026, 7, 16);
  import.imported_status = registry::LicenceStatus::kTerminated;
  import.reason = "lapsed";
  import.source_version = "3";
  events.push_back(import);

  registry::Event annex_issue = sampleEvent(EventType::kAnnexIssue);
  annex_issue.annex_name = "Котельная № 2";
  annex_issue.annex_address = "Астана, ул. Кенесары, 4";
  events.push_back(annex_issue);

  registry::Event annex_suspend = sampleEvent(EventType::kAnnexSuspend);
  annex_suspend.annex_number = "002";
  annex_suspend.reason = "site closed for repair";
  annex_suspend.suspended_until = sampleDate(2024, 4, 1);
  events.push_back(annex_suspend);

  registry::Event annex_resume = sampleEvent(EventType::kAnnexResume);
  annex_resume.annex_number = "002";
  events.push_back(annex_resume);

  registry::Event annex_terminate = sampleEvent(EventType::kAnnexTerminate);
  annex_terminate.annex_number = "002";
  annex_terminate.reason = "site sold";
  events.push_back(annex_terminate);

  registry::Event annex_import = sampleEvent(EventType::kAnnexImport);
  annex_import.licensor = "CZ-ERU";
  annex_import.licence_number = "310100019";
  annex_import.annex_number = "003";
  annex_import.annex_name = "Plynová kotelna K 3 Fugnerova";
  annex_import.annex_address = "Fugnerova 1640, 396 01 Humpolec";
  annex_import.annex_status = registry::LicenceStatus::kActive;
  events.push_back(annex_import);
  return events;
}

inline std::vector<registry::Event> sampleEvents() {
  std::vector<registry::Event> events = sampleLicenceEvents();
  for (registry::Event& event : sampleImportAndAnnexEvents()) {
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace licgate::mapping
