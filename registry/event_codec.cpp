// Canonical JSON of events. Field names are the lowerCamel forms of
// registry::Event's members, the same names the XML format uses
// (mapping/event_xml.hpp), so both formats read alike.
#include "registry/event_codec.hpp"

#include <functional>
#include <map>

#include <nlohmann/json.hpp>

namespace licgate::registry {

namespace {

using Json = nlohmann::ordered_json;

void putText(Json& out, const char* key, const std::string& value) {
  if (!value.empty()) {
    out[key] = value;
  }
}

void putDate(Json& out, const char* key, const std::optional<Date>& value) {
  if (value) {
    out[key] = formatIsoDate(*value);
  }
}

Json encodeHolder(const Holder& holder) {
  Json out = Json::object();
  if (holder.id) {
    out["idScheme"] = std::string(idSchemeName(holder.id->scheme));
    out["id"] = holder.id->value;
  }
  putText(out, "name", holder.name);
  putText(out, "address", holder.address);
  putText(out, "legalForm", holder.legal_form);
  putText(out, "country", holder.country);
  return out;
}

bool carriesNumberKind(EventType type) {
  return type == EventType::kIssue || type == EventType::kImport;
}

}  // namespace

std::string encodeEvent(const Event& event) {
  Json out = Json::object();
  out["type"] = std::string(eventTypeName(event.type));
  putText(out, "licensor", event.licensor);
  out["occurredOn"] = formatIsoDate(event.occurred_on);
  putText(out, "licenceNumber", event.licence_number);
  if (carriesNumberKind(event.type)) {
    out["numberKind"] = std::string(numberKindName(event.number_kind));
  }
  putText(out, "goodsList", event.goods_list);
  putText(out, "sealCode", event.seal_code);
  if (event.holder) {
    out["holder"] = encodeHolder(*event.holder);
  }
  putText(out, "activityCode", event.activity_code);
  putDate(out, "validFrom", event.valid_from);
  putDate(out, "validUntil", event.valid_until);
  if (event.imported_status) {
    out["importedStatus"] = std::string(statusName(*event.imported_status));
  }
  putText(out, "sourceVersion", event.source_version);
  putText(out, "applicationRef", event.application_ref);
  putText(out, "reason", event.reason);
  putDate(out, "suspendedUntil", event.suspended_until);
  putText(out, "annexNumber", event.annex_number);
  putText(out, "annexName", event.annex_name);
  putText(out, "annexAddress", event.annex_address);
  if (event.annex_status) {
    out["annexStatus"] = std::string(statusName(*event.annex_status));
  }
  return out.dump();
}

namespace {

// Reads one JSON member into the event. Each reader checks the JSON type
// and the value's shape and names the field on failure.
using FieldReader = std::function<Status(const Json&, Event&)>;

Error wrongType(std::string_view field, std::string_view expected) {
  return makeError(ErrorCode::kInvalidField,
                   "field \"" + std::string(field) + "\" must be " + std::string(expected));
}

Result<std::string> readText(const Json& value, std::string_view field) {
  if (!value.is_string()) {
    return wrongType(field, "a string");
  }
  return value.get<std::string>();
}

FieldReader textField(std::string Event::*member, std::string field) {
  return [member, field](const Json& value, Event& event) -> Status {
    auto text = readText(value, field);
    if (!text) {
      return text.takeError();
    }
    event.*member = std::move(*text);
    return {};
  };
}

template <typename Target>
FieldReader dateField(Target Event::*member, std::string field) {
  return [member, field](const Json& value, Event& event) -> Status {
    auto text = readText(value, field);
    if (!text) {
      return text.takeError();
    }
    auto date = parseIsoDate(*text, field);
    if (!date) {
      return date.takeError();
    }
    event.*member = *date;
    return {};
  };
}

template <typename Target, typename Parser>
FieldReader namedField(Target Event::*member, std::string field, Parser parse) {
  return [member, field, parse](const Json& value, Event& event) -> Status {
    auto text = readText(value, field);
    if (!text) {
      return text.takeError();
    }
    auto parsed = parse(*text);
    if (!parsed) {
      return makeError(ErrorCode::kInvalidField,
                       "field \"" + field + "\": " + parsed.error().message);
    }
    event.*member = *parsed;
    return {};
  };
}

Result<Holder> decodeHolder(const Json& value) {
  if (!value.is_object()) {
    return wrongType("holder", "an object");
  }
  Holder holder;
  std::optional<IdScheme> scheme;
  std::string id;
  for (const auto& [key, member] : value.items()) {
    auto text = readText(member, "holder." + key);
    if (!text) {
      return text.takeError();
    }
    if (key == "idScheme") {
      auto parsed = parseIdScheme(*text);
      if (!parsed) {
        return makeError(ErrorCode::kInvalidField,
                         "field \"holder.idScheme\": " + parsed.error().message);
      }
      scheme = *parsed;
    } else if (key == "id") {
      id = *text;
    } else if (key == "name") {
      holder.name = *text;
    } else if (key == "address") {
      holder.address = *text;
    } else if (key == "legalForm") {
      holder.legal_form = *text;
    } else if (key == "country") {
      holder.country = *text;
    } else {
      return makeError(ErrorCode::kInvalidField, "unknown field \"holder." + key + "\"");
    }
  }
  if (scheme.has_value() != !id.empty()) {
    return makeError(ErrorCode::kInvalidField,
                     "fields \"holder.idScheme\" and \"holder.id\" must be given together");
  }
  if (scheme) {
    holder.id = HolderId{*scheme, id};
  }
  return holder;
}

const std::map<std::string, FieldReader, std::less<>>& fieldReaders() {
  static const std::map<std::string, FieldReader, std::less<>> kReaders{
      {"type", namedField(&Event::type, "type", parseEventType)},
      {"licensor", textField(&Event::licensor, "licensor")},
      {"occurredOn", dateField(&Event::occurred_on, "occurredOn")},
      {"licenceNumber", textField(&Event::licence_number, "licenceNumber")},
      {"numberKind", namedField(&Event::number_kind, "numberKind", parseNumberKind)},
      {"goodsList", textField(&Event::goods_list, "goodsList")},
      {"sealCode", textField(&Event::seal_code, "sealCode")},
      {"activityCode", textField(&Event::activity_code, "activityCode")},
      {"validFrom", dateField(&Event::valid_from, "validFrom")},
      {"validUntil", dateField(&Event::valid_until, "validUntil")},
      {"importedStatus", namedField(&Event::imported_status, "importedStatus", parseStatus)},
      {"sourceVersion", textField(&Event::source_version, "sourceVersion")},
      {"applicationRef", textField(&Event::application_ref, "applicationRef")},
      {"reason", textField(&Event::reason, "reason")},
      {"suspendedUntil", dateField(&Event::suspended_until, "suspendedUntil")},
      {"annexNumber", textField(&Event::annex_number, "annexNumber")},
      {"annexName", textField(&Event::annex_name, "annexName")},
      {"annexAddress", textField(&Event::annex_address, "annexAddress")},
      {"annexStatus", namedField(&Event::annex_status, "annexStatus", parseStatus)},
  };
  return kReaders;
}

}  // namespace

Result<Event> decodeEvent(std::string_view json) {
  Json document = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return makeError(ErrorCode::kMalformed, "event is not valid JSON");
  }
  if (!document.is_object()) {
    return makeError(ErrorCode::kMalformed, "event JSON must be an object");
  }

  // Type and date are required for every event; the rest depends on the
  // type and is checked by registry/validation.hpp.
  for (const char* required : {"type", "occurredOn"}) {
    if (!document.contains(required)) {
      return makeError(ErrorCode::kInvalidField, "missing field \"" + std::string(required) + "\"");
    }
  }

  Event event;
  const auto& readers = fieldReaders();
  for (const auto& [key, value] : document.items()) {
    if (key == "holder") {
      auto holder = decodeHolder(value);
      if (!holder) {
        return holder.takeError();
      }
      event.holder = std::move(*holder);
      continue;
    }
    auto reader = readers.find(key);
    if (reader == readers.end()) {
      return makeError(ErrorCode::kInvalidField, "unknown field \"" + key + "\"");
    }
    LICGATE_RETURN_IF_ERROR(reader->second(value, event));
  }
  return event;
}

}  // namespace licgate::registry
