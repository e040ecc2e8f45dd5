// Licences and journal entries for the SOAP services (mapping/licence_xml.hpp).
#include "mapping/licence_xml.hpp"

#include <string>

#include "mapping/event_xml.hpp"
#include "registry/event_codec.hpp"

namespace licgate::mapping {

using registry::Date;

namespace {

// Every element of the SOAP types is qualified (elementFormDefault), so
// names are written with the prefix.
pugi::xml_node appendText(pugi::xml_node parent, std::string_view local, std::string_view text) {
  pugi::xml_node node = parent.append_child(("lg:" + std::string(local)).c_str());
  node.text().set(std::string(text).c_str());
  return node;
}

void appendOptional(pugi::xml_node parent, std::string_view local, const std::string& text) {
  if (!text.empty()) {
    appendText(parent, local, text);
  }
}

void appendDate(pugi::xml_node parent, std::string_view local, const std::optional<Date>& date) {
  if (date) {
    appendText(parent, local, registry::formatIsoDate(*date));
  }
}

// The holder in the event schema's type (le:Holder), whose elements are in
// the event namespace.
void appendHolder(pugi::xml_node parent, const registry::Holder& holder) {
  pugi::xml_node node = parent.append_child("lg:holder");
  node.append_attribute("xmlns:le") = "urn:licgate:licence-event:1";
  auto put = [&node](const char* local, const std::string& text) {
    if (!text.empty()) {
      node.append_child(("le:" + std::string(local)).c_str()).text().set(text.c_str());
    }
  };
  if (holder.id) {
    put("idScheme", std::string(registry::idSchemeName(holder.id->scheme)));
    put("id", holder.id->value);
  }
  put("name", holder.name);
  put("address", holder.address);
  put("legalForm", holder.legal_form);
  put("country", holder.country);
}

void appendAnnex(pugi::xml_node parent, const registry::Annex& annex) {
  pugi::xml_node node = parent.append_child("lg:annex");
  appendText(node, "number", annex.number);
  appendText(node, "name", annex.name);
  appendText(node, "address", annex.address);
  appendText(node, "status", registry::statusName(annex.status));
  appendText(node, "issuedOn", registry::formatIsoDate(annex.issued_on));
}

}  // namespace

void appendLicenceXml(pugi::xml_node parent, const char* name, const registry::Licence& licence) {
  pugi::xml_node node = parent.append_child(("lg:" + std::string(name)).c_str());
  appendText(node, "number", licence.number);
  appendText(node, "kind", registry::numberKindName(licence.kind));
  appendText(node, "licensor", licence.licensor);
  appendText(node, "activityCode", licence.activity_code);
  appendText(node, "status", registry::statusName(licence.status));
  appendHolder(node, licence.holder);
  appendText(node, "issuedOn", registry::formatIsoDate(licence.issued_on));
  appendText(node, "validFrom", registry::formatIsoDate(licence.valid_from));
  appendDate(node, "validUntil", licence.valid_until);
  appendDate(node, "suspendedUntil", licence.suspended_until);
  appendText(node, "revision", std::to_string(licence.revision));
  appendOptional(node, "sourceVersion", licence.source_version);
  for (const registry::Annex& annex : licence.annexes) {
    appendAnnex(node, annex);
  }
}

registry::Status appendChangeXml(pugi::xml_node parent, const registry::JournalEntry& entry) {
  auto event = registry::decodeEvent(entry.payload);
  if (!event) {
    return registry::makeError(registry::ErrorCode::kInternal,
                               "journal entry " + std::to_string(entry.sequence) +
                                   " cannot be read back: " + event.error().message);
  }
  pugi::xml_document event_xml;
  std::string text = writeEventXml(*event);
  if (!event_xml.load_buffer(text.data(), text.size())) {
    return registry::makeError(
        registry::ErrorCode::kInternal,
        "journal entry " + std::to_string(entry.sequence) + " does not write as XML");
  }

  pugi::xml_node node = parent.append_child("lg:change");
  appendText(node, "sequence", std::to_string(entry.sequence));
  appendText(node, "type", registry::eventTypeName(entry.type));
  appendText(node, "licensor", entry.licensor);
  appendText(node, "licenceNumber", entry.licence_number);
  appendOptional(node, "annexNumber", entry.annex_number);
  appendText(node, "senderSystem", entry.sender_system);
  appendText(node, "messageId", entry.message_id);
  appendText(node, "recordedAt", entry.recorded_at);
  node.append_copy(event_xml.document_element());
  return {};
}

}  // namespace licgate::mapping
