// JSON views of the register for the HTTP API. Every key is always present
// (null when there is no value) so that clients can rely on the shape; the
// shapes are listed in mapping/json_view.hpp and docs/event-format.md.
#include "mapping/json_view.hpp"

#include <nlohmann/json.hpp>

#include "registry/text.hpp"

namespace licgate::mapping {

namespace {

using Json = nlohmann::ordered_json;

// Text that is not valid UTF-8 cannot be a JSON string; dumping replaces such
// bytes with U+FFFD instead of throwing, so a view never fails.
std::string dumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json dateOrNull(const std::optional<registry::Date>& date) {
  if (!date || !date->ok()) {
    return nullptr;
  }
  return registry::formatIsoDate(*date);
}

Json textOrNull(const std::string& text) {
  return text.empty() ? Json(nullptr) : Json(text);
}

Json holderJson(const registry::Holder& holder) {
  Json out = Json::object();
  out["idScheme"] =
      holder.id ? Json(std::string(registry::idSchemeName(holder.id->scheme))) : Json(nullptr);
  out["id"] = holder.id ? Json(holder.id->value) : Json(nullptr);
  out["name"] = holder.name;
  out["address"] = holder.address;
  out["legalForm"] = holder.legal_form;
  out["country"] = holder.country;
  return out;
}

Json annexJson(const registry::Annex& annex) {
  Json out = Json::object();
  out["number"] = annex.number;
  out["name"] = annex.name;
  out["address"] = annex.address;
  out["status"] = std::string(registry::statusName(annex.status));
  out["issuedOn"] = dateOrNull(annex.issued_on);
  return out;
}

Json licenceJson(const registry::Licence& licence) {
  Json out = Json::object();
  out["number"] = licence.number;
  out["kind"] = std::string(registry::numberKindName(licence.kind));
  out["licensor"] = licence.licensor;
  out["activityCode"] = licence.activity_code;
  out["status"] = std::string(registry::statusName(licence.status));
  out["holder"] = holderJson(licence.holder);
  out["issuedOn"] = dateOrNull(licence.issued_on);
  out["validFrom"] = dateOrNull(licence.valid_from);
  out["validUntil"] = dateOrNull(licence.valid_until);
  out["suspendedUntil"] = dateOrNull(licence.suspended_until);
  out["revision"] = licence.revision;
  out["sourceVersion"] = textOrNull(licence.source_version);
  out["annexes"] = Json::array();
  for (const registry::Annex& annex : licence.annexes) {
    out["annexes"].push_back(annexJson(annex));
  }
  return out;
}

// The journal keeps each event as canonical JSON; the view embeds it as an
// object. A payload that does not parse (it never should) is shown as text
// rather than hidden.
Json payloadJson(const std::string& payload) {
  Json parsed = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(payload) : parsed;
}

Json journalEntryJson(const registry::JournalEntry& entry) {
  Json out = Json::object();
  out["sequence"] = entry.sequence;
  out["type"] = std::string(registry::eventTypeName(entry.type));
  out["licensor"] = entry.licensor;
  out["licenceNumber"] = textOrNull(entry.licence_number);
  out["annexNumber"] = textOrNull(entry.annex_number);
  out["senderSystem"] = entry.sender_system;
  out["messageId"] = entry.message_id;
  out["recordedAt"] = entry.recorded_at;
  out["event"] = payloadJson(entry.payload);
  return out;
}

Json journalJson(const std::vector<registry::JournalEntry>& entries) {
  Json out = Json::array();
  for (const registry::JournalEntry& entry : entries) {
    out.push_back(journalEntryJson(entry));
  }
  return out;
}

// RFC 4648 section 4, with padding.
std::string encodeBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t at = 0; at < bytes.size(); at += 3) {
    std::uint32_t group = static_cast<unsigned char>(bytes[at]) << 16;
    if (at + 1 < bytes.size()) {
      group |= static_cast<unsigned char>(bytes[at + 1]) << 8;
    }
    if (at + 2 < bytes.size()) {
      group |= static_cast<unsigned char>(bytes[at + 2]);
    }
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += at + 1 < bytes.size() ? kAlphabet[(group >> 6) & 63] : '=';
    out += at + 2 < bytes.size() ? kAlphabet[group & 63] : '=';
  }
  return out;
}

Json deadLetterJson(const registry::DeadLetter& letter) {
  bool text = registry::isValidUtf8(letter.body);
  Json out = Json::object();
  out["id"] = letter.id;
  out["senderSystem"] = letter.sender_system;
  out["messageId"] = letter.message_id;
  out["contentType"] = letter.content_type;
  out["receivedAt"] = letter.received_at;
  out["error"] = std::string(registry::errorCodeName(letter.code));
  out["reason"] = letter.reason;
  out["bodyEncoding"] = text ? "utf-8" : "base64";
  out["body"] = text ? letter.body : encodeBase64(letter.body);
  return out;
}

}  // namespace

std::string licenceToJson(const registry::Licence& licence,
                          const std::vector<registry::JournalEntry>& history) {
  Json out = licenceJson(licence);
  out["history"] = journalJson(history);
  return dumpJson(out);
}

std::string licencePageToJson(const registry::LicencePage& page) {
  Json out = Json::object();
  out["licences"] = Json::array();
  for (const registry::Licence& licence : page.licences) {
    out["licences"].push_back(licenceJson(licence));
  }
  out["nextAfter"] = textOrNull(page.next_after);
  return dumpJson(out);
}

std::string journalToJson(const std::vector<registry::JournalEntry>& entries) {
  Json out = Json::object();
  out["entries"] = journalJson(entries);
  out["nextAfter"] = entries.empty() ? Json(nullptr) : Json(entries.back().sequence);
  return dumpJson(out);
}

std::string deadLettersToJson(const std::vector<registry::DeadLetter>& letters) {
  Json out = Json::object();
  out["deadLetters"] = Json::array();
  for (const registry::DeadLetter& letter : letters) {
    out["deadLetters"].push_back(deadLetterJson(letter));
  }
  out["nextAfter"] = letters.empty() ? Json(nullptr) : Json(letters.back().id);
  return dumpJson(out);
}

std::string errorToJson(const registry::Error& error) {
  Json out = Json::object();
  out["error"] = std::string(registry::errorCodeName(error.code));
  out["message"] = error.message;
  return dumpJson(out);
}

}  // namespace licgate::mapping
