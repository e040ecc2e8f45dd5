// JSON views of the register for the HTTP API (docs/http-api.md): a licence
// with its annexes, journal entries, dead letters, errors. Pure functions:
// values in, JSON text out; they never fail (bytes that are not UTF-8 in a
// text field come out as U+FFFD).
//
// The shapes are stable: every key is always written, null when there is no
// value. Dates are "YYYY-MM-DD".
//   licence:     {"number", "kind", "licensor", "activityCode", "status",
//                 "holder": {"idScheme", "id", "name", "address", "legalForm",
//                            "country"},
//                 "issuedOn", "validFrom", "validUntil" (null: unlimited),
//                 "suspendedUntil", "revision", "sourceVersion",
//                 "annexes": [{"number", "name", "address", "status", "issuedOn"}],
//                 "history": [entry, ...]}          (licenceToJson only)
//   entry:       {"sequence", "type", "licensor", "licenceNumber", "annexNumber",
//                 "senderSystem", "messageId", "recordedAt",
//                 "event": <the canonical event JSON, registry/event_codec.hpp>}
//   page:        {"licences": [licence without "history"], "nextAfter"}
//   journal:     {"entries": [entry, ...], "nextAfter": last sequence or null}
//   dead letters:{"deadLetters": [{"id", "senderSystem", "messageId",
//                 "contentType", "receivedAt", "error", "reason",
//                 "bodyEncoding": "utf-8" or "base64", "body"}],
//                 "nextAfter": last id or null}
//   error:       {"error": "<code name>", "message": "..."}
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
