// Events, deliveries and a configuration for the gateway tests.
#pragma once

#include <string>

#include "adapters/amqp/intake_server.hpp"
#include "config/config.hpp"
#include "mapping/event_xml.hpp"
#include "registry/event.hpp"

namespace licgate::testing {

inline registry::Date day(int year, unsigned month, unsigned day_of_month) {
  return registry::Date{std::chrono::year{year}, std::chrono::month{month},
                        std::chrono::day{day_of_month}};
}

inline constexpr const char* kCzLicensor = "CZ-ERU";
inline constexpr const char* kKzLicensor = "KZ-MIIR";

// Two licensors; "eru-export" may act for CZ-ERU only, "portal" for all.
inline config::Config sampleConfig() {
  config::Config config;
  config.licensors = {{kCzLicensor, "Energetický regulační úřad"},
                      {kKzLicensor, "Ministry of Industry"}};
  config.systems = {{"eru-export", "ERU export", {kCzLicensor}}, {"portal", "Portal", {"*"}}};
  return config;
}

// A legacy licence as another register holds it.
inline registry::Event importEvent(
    const std::string& number, registry::LicenceStatus status = registry::LicenceStatus::kActive,
    const std::string& version = "1") {
  registry::Event event;
  event.type = registry::EventType::kImport;
  event.licensor = kCzLicensor;
  event.occurred_on = day(2021, 5, 28);
  event.licence_number = number;
  event.number_kind = registry::NumberKind::kLegacy;
  event.holder = registry::Holder{registry::HolderId{registry::IdScheme::kCzIco, "00637076"},
                                  "Obec Velký Karlov", "Velký Karlov 126, 671 28", "", "CZ"};
  event.activity_code = "31";
  event.valid_from = day(2001, 7, 1);
  event.valid_until = day(2026, 7, 16);
  event.imported_status = status;
  event.source_version = version;
  return event;
}

// suspend, resume, terminate or duplicate of a licence.
inline registry::Event licenceEvent(registry::EventType type, const std::string& number,
                                    const std::string& licensor = kCzLicensor) {
  registry::Event event;
  event.type = type;
  event.licensor = licensor;
  event.occurred_on = day(2022, 3, 1);
  event.licence_number = number;
  if (type == registry::EventType::kSuspend || type == registry::EventType::kTerminate) {
    event.reason = "the heat plant failed its inspection";
  }
  return event;
}

// A new licence: the register gives the number.
inline registry::Event issueEvent(const std::string& licensor = kKzLicensor) {
  registry::Event event;
  event.type = registry::EventType::kIssue;
  event.licensor = licensor;
  event.occurred_on = day(2026, 3, 2);
  event.holder = registry::Holder{registry::HolderId{registry::IdScheme::kKzBin, "150440000003"},
                                  "TOO Kazakh Heat", "Astana, Mangilik El 8", "TOO", "KZ"};
  event.activity_code = "31";
  return event;
}

inline adapters::amqp::Delivery delivery(const std::string& system, const std::string& message_id,
                                         const registry::Event& event) {
  adapters::amqp::Delivery delivery;
  delivery.address = "licences/events";
  delivery.message_id = message_id;
  delivery.sender_system = system;
  delivery.content_type = "application/xml";
  delivery.body = mapping::writeEventXml(event);
  return delivery;
}

}  // namespace licgate::testing
