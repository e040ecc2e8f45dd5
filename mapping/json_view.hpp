// JSON views of the register for the HTTP API (docs/http-api.md): a licence
// with its annexes, journal entries, dead letters, errors. Pure functions:
// values in, JSON text out.
#pragma once

#include <string>
#include <vector>

#include "registry/event.hpp"
#include "registry/model.hpp"
#include "registry/result.hpp"
#include "registry/store.hpp"

namespace licgate::mapping {

std::string licenceToJson(const registry::Licence& licence,
                          const std::vector<registry::JournalEntry>& history);
std::string licencePageToJson(const registry::LicencePage& page);
std::string journalToJson(const std::vector<registry::JournalEntry>& entries);
std::string deadLettersToJson(const std::vector<registry::DeadLetter>& letters);

// {"error": "<code name>", "message": "..."}
std::string errorToJson(const registry::Error& error);

}  // namespace licgate::mapping
