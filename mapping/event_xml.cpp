// The canonical licence event as XML (mapping/schema/licence-event.xsd).
//
// pugixml is not namespace-aware, so the namespace of each element is
// resolved here from its prefix and the xmlns declarations above it
// (Namespaces in XML 1.0 section 6). pugixml neither loads DTDs nor expands
// entities other than the five predefined ones, so a hostile document cannot
// make licgate fetch a file or expand a billion laughs.
#include "mapping/event_xml.hpp"

#include <pugixml.hpp>

#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "mapping/xml_check.hpp"
#include "mapping/xml_names.hpp"

namespace licgate::mapping {

using registry::Date;
using registry::Error;
using registry::ErrorCode;
using registry::Event;
using registry::EventType;
using registry::Holder;
using registry::makeError;
using registry::Result;
using registry::Status;

namespace {

constexpr std::string_view kNamespace = "urn:licgate:licence-event:1";
constexpr std::string_view kRoot = "licenceEvent";

// ---- Writing -------------------------------------------------------------

void putText(pugi::xml_node parent, const char* name, const std::string& value) {
  if (!value.empty()) {
    parent.append_child(name).text().set(value.c_str());
  }
}

void putName(pugi::xml_node parent, const char* name, std::string_view value) {
  putText(parent, name, std::string(value));
}

void putDate(pugi::xml_node parent, const char* name, const std::optional<Date>& value) {
  if (value) {
    putText(parent, name, registry::formatIsoDate(*value));
  }
}

void putHolder(pugi::xml_node parent, const Holder& holder) {
  pugi::xml_node node = parent.append_child("holder");
  if (holder.id) {
    putName(node, "idScheme", registry::idSchemeName(holder.id->scheme));
    putText(node, "id", holder.id->value);
  }
  putText(node, "name", holder.name);
  putText(node, "address", holder.address);
  putText(node, "legalForm", holder.legal_form);
  putText(node, "country", holder.country);
}

// Issue and import are the events whose numbering the kind describes; the
// canonical JSON writes it for those only, and so does the XML.
bool carriesNumberKind(EventType type) {
  return type == EventType::kIssue || type == EventType::kImport;
}

void putEvent(pugi::xml_node root, const Event& event) {
  putName(root, "type", registry::eventTypeName(event.type));
  putText(root, "licensor", event.licensor);
  putDate(root, "occurredOn", event.occurred_on);
  putText(root, "licenceNumber", event.licence_number);
  if (carriesNumberKind(event.type)) {
    putName(root, "numberKind", registry::numberKindName(event.number_kind));
  }
  putText(root, "goodsList", event.goods_list);
  putText(root, "sealCode", event.seal_code);
  if (event.holder) {
    putHolder(root, *event.holder);
  }
  putText(root, "activityCode", event.activity_code);
  putDate(root, "validFrom", event.valid_from);
  putDate(root, "validUntil", event.valid_until);
  if (event.imported_status) {
    putName(root, "importedStatus", registry::statusName(*event.imported_status));
  }
  putText(root, "sourceVersion", event.source_version);
  putText(root, "applicationRef", event.application_ref);
  putText(root, "reason", event.reason);
  putDate(root, "suspendedUntil", event.suspended_until);
  putText(root, "annexNumber", event.annex_number);
  putText(root, "annexName", event.annex_name);
  putText(root, "annexAddress", event.annex_address);
  if (event.annex_status) {
    putName(root, "annexStatus", registry::statusName(*event.annex_status));
  }
}

// ---- Reading -------------------------------------------------------------

// The character data of a leaf element; an element inside is an error.
Result<std::string> leafText(pugi::xml_node node, std::string_view label) {
  std::string text;
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_element) {
      return makeError(ErrorCode::kInvalidField,
                       "element <" + std::string(label) + "> must hold text, not elements");
    }
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    }
  }
  return text;
}

Error inElement(std::string_view label, const Error& error) {
  return makeError(error.code, "element <" + std::string(label) + ">: " + error.message);
}

// How one element's text becomes part of the event. Free text is kept as
// written; codes, names of values and dates lose surrounding white space, as
// the XSD's whitespace facet allows for a pretty-printed document.
using EventReader = std::function<Status(std::string_view, std::string_view, Event&)>;

EventReader freeText(std::string Event::*member) {
  return [member](std::string_view text, std::string_view, Event& event) -> Status {
    event.*member = std::string(text);
    return {};
  };
}

EventReader code(std::string Event::*member) {
  return [member](std::string_view text, std::string_view, Event& event) -> Status {
    event.*member = std::string(trimXmlSpace(text));
    return {};
  };
}

template <typename Target>
EventReader date(Target Event::*member) {
  return [member](std::string_view text, std::string_view label, Event& event) -> Status {
    auto parsed =
        registry::parseIsoDate(trimXmlSpace(text), "element <" + std::string(label) + ">");
    if (!parsed) {
      return parsed.takeError();
    }
    event.*member = *parsed;
    return {};
  };
}

template <typename Target, typename Parser>
EventReader named(Target Event::*member, Parser parse) {
  return [member, parse](std::string_view text, std::string_view label, Event& event) -> Status {
    auto parsed = parse(trimXmlSpace(text));
    if (!parsed) {
      return inElement(label, parsed.error());
    }
    event.*member = *parsed;
    return {};
  };
}

const std::map<std::string, EventReader, std::less<>>& eventReaders() {
  static const std::map<std::string, EventReader, std::less<>> kReaders{
      {"type", named(&Event::type, registry::parseEventType)},
      {"licensor", code(&Event::licensor)},
      {"occurredOn", date(&Event::occurred_on)},
      {"licenceNumber", code(&Event::licence_number)},
      {"numberKind", named(&Event::number_kind, registry::parseNumberKind)},
      {"goodsList", code(&Event::goods_list)},
      {"sealCode", code(&Event::seal_code)},
      {"activityCode", code(&Event::activity_code)},
      {"validFrom", date(&Event::valid_from)},
      {"validUntil", date(&Event::valid_until)},
      {"importedStatus", named(&Event::imported_status, registry::parseStatus)},
      {"sourceVersion", code(&Event::source_version)},
      {"applicationRef", code(&Event::application_ref)},
      {"reason", freeText(&Event::reason)},
      {"suspendedUntil", date(&Event::suspended_until)},
      {"annexNumber", code(&Event::annex_number)},
      {"annexName", freeText(&Event::annex_name)},
      {"annexAddress", freeText(&Event::annex_address)},
      {"annexStatus", named(&Event::annex_status, registry::parseStatus)},
  };
  return kReaders;
}

// The children of `parent`, each checked to be in the event namespace and to
// appear once. Calls `read` with each child's local name and text, or with
// the child itself for the holder.
Status forEachChild(pugi::xml_node parent, std::string_view path,
                    const std::function<Status(std::string_view, pugi::xml_node)>& read) {
  std::set<std::string, std::less<>> seen;
  for (pugi::xml_node child : parent.children()) {
    if (child.type() != pugi::node_element) {
      continue;
    }
    std::string_view local = localName(child.name());
    std::string label = std::string(path) + std::string(local);
    if (namespaceOf(child) != kNamespace) {
      return makeError(ErrorCode::kInvalidField, "element <" + std::string(child.name()) +
                                                     "> is not in namespace " +
                                                     std::string(kNamespace));
    }
    if (!seen.insert(label).second) {
      return makeError(ErrorCode::kInvalidField, "element <" + label + "> appears more than once");
    }
    LICGATE_RETURN_IF_ERROR(read(local, child));
  }
  return {};
}

Status readHolderField(std::string_view local, pugi::xml_node node, Holder& holder,
                       std::string& scheme, std::string& id) {
  std::string label = "holder/" + std::string(local);
  auto text = leafText(node, label);
  if (!text) {
    return text.takeError();
  }
  std::string_view trimmed = trimXmlSpace(*text);
  if (local == "idScheme") {
    scheme = std::string(trimmed);
  } else if (local == "id") {
    id = std::string(trimmed);
  } else if (local == "name") {
    holder.name = *text;
  } else if (local == "address") {
    holder.address = *text;
  } else if (local == "legalForm") {
    holder.legal_form = *text;
  } else if (local == "country") {
    holder.country = std::string(trimmed);
  } else {
    return makeError(ErrorCode::kInvalidField, "unknown element <" + label + ">");
  }
  return {};
}

Result<Holder> readHolder(pugi::xml_node node) {
  Holder holder;
  std::string scheme;
  std::string id;
  LICGATE_RETURN_IF_ERROR(
      forEachChild(node, "holder/", [&](std::string_view local, pugi::xml_node child) {
        return readHolderField(local, child, holder, scheme, id);
      }));
  if (scheme.empty() != id.empty()) {
    return makeError(ErrorCode::kInvalidField,
                     "elements <holder/idScheme> and <holder/id> must be given together");
  }
  if (!scheme.empty()) {
    auto parsed = registry::parseIdScheme(scheme);
    if (!parsed) {
      return inElement("holder/idScheme", parsed.error());
    }
    holder.id = registry::HolderId{*parsed, id};
  }
  return holder;
}

Status readEventField(std::string_view local, pugi::xml_node node, Event& event) {
  if (local == "holder") {
    auto holder = readHolder(node);
    if (!holder) {
      return holder.takeError();
    }
    event.holder = std::move(*holder);
    return {};
  }
  const auto& readers = eventReaders();
  auto reader = readers.find(local);
  if (reader == readers.end()) {
    return makeError(ErrorCode::kInvalidField, "unknown element <" + std::string(local) + ">");
  }
  auto text = leafText(node, local);
  if (!text) {
    return text.takeError();
  }
  return reader->second(*text, local, event);
}

Status checkRoot(pugi::xml_node root) {
  if (localName(root.name()) != kRoot) {
    return makeError(ErrorCode::kMalformed, "root element is <" + std::string(root.name()) +
                                                ">, expected <licenceEvent> in namespace " +
                                                std::string(kNamespace));
  }
  std::string ns = namespaceOf(root);
  if (ns != kNamespace) {
    return makeError(ErrorCode::kMalformed, "root element <licenceEvent> is in namespace \"" + ns +
                                                "\", expected " + std::string(kNamespace));
  }
  return {};
}

Status checkRequired(pugi::xml_node root) {
  for (std::string_view required : {"type", "licensor", "occurredOn"}) {
    bool found = false;
    for (pugi::xml_node child : root.children()) {
      found = found || (child.type() == pugi::node_element && localName(child.name()) == required);
    }
    if (!found) {
      return makeError(ErrorCode::kInvalidField, "missing element <" + std::string(required) + ">");
    }
  }
  return {};
}

}  // namespace

Result<Event> parseEventXml(std::string_view utf8) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed =
      document.load_buffer(utf8.data(), utf8.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return makeError(ErrorCode::kMalformed, "event XML is malformed at byte offset " +
                                                std::to_string(parsed.offset) + ": " +
                                                parsed.description());
  }
  if (!hasOneRootElement(document)) {
    return makeError(ErrorCode::kMalformed,
                     "event XML has more than one root element; an event is one <licenceEvent>");
  }
  LICGATE_RETURN_IF_ERROR(checkWellFormed(utf8, "event XML"));
  pugi::xml_node root = document.document_element();
  LICGATE_RETURN_IF_ERROR(checkRoot(root));
  LICGATE_RETURN_IF_ERROR(checkRequired(root));

  Event event;
  LICGATE_RETURN_IF_ERROR(forEachChild(root, "", [&](std::string_view local, pugi::xml_node child) {
    return readEventField(local, child, event);
  }));
  return event;
}

std::string writeEventXml(const Event& event) {
  pugi::xml_document document;
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = document.append_child(std::string(kRoot).c_str());
  root.append_attribute("xmlns") = std::string(kNamespace).c_str();
  putEvent(root, event);

  std::ostringstream out;
  document.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace licgate::mapping
