// Canonical JSON of events. Field names are the lowerCamel forms of
// registry::Event's members, the same names the XML format uses
// (mapping/event_xml.hpp), so both formats read alike.
#include "registry/event_codec.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/text.hpp"

namespace licgate::registry {

namespace {

using Json = nlohmann::ordered_json;

// Writes the canonical JSON straight into one string. It produces what
// nlohmann::json::dump() gives for the same object (compact, members in
// insertion order, non-ASCII text as UTF-8 bytes, control characters
// escaped) without building a tree first: the journal writes one payload per
// event, and the tree cost more than the rest of the encoding.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void beginObject() {
    out_ += '{';
    first_ = true;
  }

  void endObject() {
    out_ += '}';
    first_ = false;
  }

  void key(std::string_view name) {
    if (!first_) {
      out_ += ',';
    }
    first_ = false;
    out_ += '"';
    out_ += name;
    out_ += "\":";
  }

  void member(std::string_view name, std::string_view value) {
    key(name);
    string(value);
  }

  void text(std::string_view name, const std::string& value) {
    if (!value.empty()) {
      member(name, value);
    }
  }

  void date(std::string_view name, const std::optional<Date>& value) {
    if (value) {
      member(name, formatIsoDate(*value));
    }
  }

 private:
  // RFC 8259 section 7, as nlohmann writes it: the two-character escapes
  // where JSON has one, \u00xx (lower-case hex) for the other control
  // characters, every other byte as it is.
  void string(std::string_view value) {
    out_ += '"';
    std::size_t plain_from = 0;
    for (std::size_t at = 0; at < value.size(); ++at) {
      auto byte = static_cast<unsigned char>(value[at]);
      if (byte >= 0x20 && byte != '"' && byte != '\\') {
        continue;
      }
      out_.append(value, plain_from, at - plain_from);
      appendEscape(byte);
      plain_from = at + 1;
    }
    out_.append(value, plain_from, value.size() - plain_from);
    out_ += '"';
    if (!isValidUtf8(value)) {
      throwInvalidUtf8(value);
    }
  }

  void appendEscape(unsigned char byte) {
    switch (byte) {
      case '"':
        out_ += "\\\"";
        return;
      case '\\':
        out_ += "\\\\";
        return;
      case '\b':
        out_ += "\\b";
        return;
      case '\f':
        out_ += "\\f";
        return;
      case '\n':
        out_ += "\\n";
        return;
      case '\r':
        out_ += "\\r";
        return;
      case '\t':
        out_ += "\\t";
        return;
      default:
        break;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += "\\u00";
    out_ += kHex[byte >> 4];
    out_ += kHex[byte & 0xF];
  }

  // Text that is not UTF-8 cannot be a JSON string. nlohmann's writer is
  // asked to write it so that the exception (type and message naming the
  // byte) stays the one the journal reported before this writer existed.
  [[noreturn]] static void throwInvalidUtf8(std::string_view value) {
    (void)Json(std::string(value)).dump();
    throw std::invalid_argument("text is not valid UTF-8");
  }

  std::string& out_;
  bool first_ = true;
};

void writeHolder(JsonWriter& writer, const Holder& holder) {
  writer.key("holder");
  writer.beginObject();
  if (holder.id) {
    writer.member("idScheme", idSchemeName(holder.id->scheme));
    writer.member("id", holder.id->value);
  }
  writer.text("name", holder.name);
  writer.text("address", holder.address);
  writer.text("legalForm", holder.legal_form);
  writer.text("country", holder.country);
  writer.endObject();
}

bool carriesNumberKind(EventType type) {
  return type == EventType::kIssue || type == EventType::kImport;
}

}  // namespace

std::string encodeEvent(const Event& event) {
  std::string out;
  out.reserve(512);
  JsonWriter writer(out);
  writer.beginObject();
  writer.member("type", eventTypeName(event.type));
  writer.text("licensor", event.licensor);
  writer.member("occurredOn", formatIsoDate(event.occurred_on));
  writer.text("licenceNumber", event.licence_number);
  if (carriesNumberKind(event.type)) {
    writer.member("numberKind", numberKindName(event.number_kind));
  }
  writer.text("goodsList", event.goods_list);
  writer.text("sealCode", event.seal_code);
  if (event.holder) {
    writeHolder(writer, *event.holder);
  }
  writer.text("activityCode", event.activity_code);
  writer.date("validFrom", event.valid_from);
  writer.date("validUntil", event.valid_until);
  if (event.imported_status) {
    writer.member("importedStatus", statusName(*event.imported_status));
  }
  writer.text("sourceVersion", event.source_version);
  writer.text("applicationRef", event.application_ref);
  writer.text("reason", event.reason);
  writer.date("suspendedUntil", event.suspended_until);
  writer.text("annexNumber", event.annex_number);
  writer.text("annexName", event.annex_name);
  writer.text("annexAddress", event.annex_address);
  if (event.annex_status) {
    writer.member("annexStatus", statusName(*event.annex_status));
  }
  writer.endObject();
  return out;
}

namespace {

std::string describeParseError(const nlohmann::detail::exception& ex) {
  return jsonErrorText(ex.what());
}

// One member of a JSON object as the parser met it. Only what the event
// readers look at is kept: the text of a string, the members of an object
// one level down (the holder), or the fact that the value was anything else.
struct Member {
  enum class Kind : std::uint8_t { kString, kObject, kOther };

  std::string key;
  Kind kind = Kind::kOther;
  std::string text;
  std::vector<Member> members;
};

// Collects the members of the top-level object through nlohmann's SAX
// interface instead of building a json tree: the intake decodes one event
// per message, and the tree's nodes cost more than the lexing. Values
// deeper than the holder's members are only skipped.
//
// A key given twice in the event or in a member object (RFC 8259 section 4
// leaves what that means to the reader) is remembered, and the event is
// refused for it: a sender and licgate must never read one message two
// ways, and the XML form refuses a repeated element too.
class MemberCollector final : public nlohmann::json_sax<Json> {
 public:
  bool rootIsObject() const { return root_is_object_; }
  std::vector<Member>& members() { return members_; }
  // "reason" or "holder.name"; empty when no key was repeated.
  const std::string& firstRepeatedKey() const { return repeated_; }
  // nlohmann's description of the first syntax error, with line and column.
  const std::string& parseError() const { return parse_error_; }

  bool null() override { return value(Member::Kind::kOther); }
  bool boolean(bool /*val*/) override { return value(Member::Kind::kOther); }
  bool number_integer(number_integer_t /*val*/) override { return value(Member::Kind::kOther); }
  bool number_unsigned(number_unsigned_t /*val*/) override { return value(Member::Kind::kOther); }
  bool number_float(number_float_t /*val*/, const string_t& /*s*/) override {
    return value(Member::Kind::kOther);
  }
  bool string(string_t& val) override {
    if (Member* slot = slotForValue()) {
      slot->kind = Member::Kind::kString;
      slot->text = std::move(val);
    }
    return true;
  }
  bool binary(binary_t& /*val*/) override { return value(Member::Kind::kOther); }

  bool start_object(std::size_t /*elements*/) override {
    if (depth_ == 0) {
      root_is_object_ = true;
    } else if (Member* slot = slotForValue()) {
      setKind(*slot, depth_ == 1 ? Member::Kind::kObject : Member::Kind::kOther);
    }
    in_member_object_ = in_member_object_ || (depth_ == 1 && root_is_object_);
    ++depth_;
    return true;
  }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t /*elements*/) override {
    value(Member::Kind::kOther);
    ++depth_;
    return true;
  }
  bool end_array() override { return leave(); }

  bool key(string_t& val) override {
    if (depth_ == 1) {
      current_ = &findOrAdd(members_, val, "");
      in_member_object_ = false;
    } else if (depth_ == 2 && in_member_object_) {
      nested_ = &findOrAdd(current_->members, val, current_->key);
    }
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    parse_error_ = describeParseError(ex);
    return false;
  }

 private:
  Member& findOrAdd(std::vector<Member>& members, std::string& key, std::string_view parent) {
    for (Member& member : members) {
      if (member.key == key) {
        if (repeated_.empty()) {
          repeated_ = parent.empty() ? key : std::string(parent) + "." + key;
        }
        return member;
      }
    }
    members.push_back(Member{std::move(key), Member::Kind::kOther, {}, {}});
    return members.back();
  }

  // The member a value at the current depth belongs to, if any is kept.
  Member* slotForValue() {
    if (depth_ == 1) {
      return current_;
    }
    if (depth_ == 2 && in_member_object_) {
      return nested_;
    }
    return nullptr;
  }

  static void setKind(Member& member, Member::Kind kind) {
    member.kind = kind;
    member.text.clear();
    member.members.clear();
  }

  bool value(Member::Kind kind) {
    if (depth_ == 0) {
      root_is_object_ = false;
    } else if (Member* slot = slotForValue()) {
      setKind(*slot, kind);
    }
    return true;
  }

  bool leave() {
    --depth_;
    if (depth_ == 1) {
      in_member_object_ = false;
    }
    return true;
  }

  std::vector<Member> members_;
  std::string repeated_;
  std::string parse_error_;
  Member* current_ = nullptr;  // the top-level member whose value is being read
  Member* nested_ = nullptr;   // its member, when that value is an object
  std::size_t depth_ = 0;      // containers open
  bool root_is_object_ = false;
  bool in_member_object_ = false;  // depth 2 is the current member's object
};

Error wrongType(std::string_view field, std::string_view expected) {
  return makeError(ErrorCode::kInvalidField,
                   "field \"" + std::string(field) + "\" must be " + std::string(expected));
}

// Reads one JSON member into the event. Each reader checks the JSON type
// and the value's shape and names the field on failure.
using FieldReader = Status (*)(Member&, std::string_view field, Event&);

Result<std::string> readText(Member& value, std::string_view field) {
  if (value.kind != Member::Kind::kString) {
    return wrongType(field, "a string");
  }
  return std::move(value.text);
}

template <std::string Event::*member>
Status textField(Member& value, std::string_view field, Event& event) {
  auto text = readText(value, field);
  if (!text) {
    return text.takeError();
  }
  event.*member = std::move(*text);
  return {};
}

template <auto member>
Status dateField(Member& value, std::string_view field, Event& event) {
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
}

template <auto member, auto parse>
Status namedField(Member& value, std::string_view field, Event& event) {
  auto text = readText(value, field);
  if (!text) {
    return text.takeError();
  }
  auto parsed = parse(*text);
  if (!parsed) {
    return makeError(ErrorCode::kInvalidField,
                     "field \"" + std::string(field) + "\": " + parsed.error().message);
  }
  event.*member = *parsed;
  return {};
}

Result<Holder> decodeHolder(Member& value) {
  if (value.kind != Member::Kind::kObject) {
    return wrongType("holder", "an object");
  }
  Holder holder;
  std::optional<IdScheme> scheme;
  std::string id;
  for (Member& member : value.members) {
    const std::string& key = member.key;
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
      id = std::move(*text);
    } else if (key == "name") {
      holder.name = std::move(*text);
    } else if (key == "address") {
      holder.address = std::move(*text);
    } else if (key == "legalForm") {
      holder.legal_form = std::move(*text);
    } else if (key == "country") {
      holder.country = std::move(*text);
    } else {
      return makeError(ErrorCode::kInvalidField, "unknown field \"holder." + key + "\"");
    }
  }
  if (scheme.has_value() != !id.empty()) {
    return makeError(ErrorCode::kInvalidField,
                     "fields \"holder.idScheme\" and \"holder.id\" must be given together");
  }
  if (scheme) {
    holder.id = HolderId{*scheme, std::move(id)};
  }
  return holder;
}

const std::map<std::string, FieldReader, std::less<>>& fieldReaders() {
  static const std::map<std::string, FieldReader, std::less<>> kReaders{
      {"type", namedField<&Event::type, parseEventType>},
      {"licensor", textField<&Event::licensor>},
      {"occurredOn", dateField<&Event::occurred_on>},
      {"licenceNumber", textField<&Event::licence_number>},
      {"numberKind", namedField<&Event::number_kind, parseNumberKind>},
      {"goodsList", textField<&Event::goods_list>},
      {"sealCode", textField<&Event::seal_code>},
      {"activityCode", textField<&Event::activity_code>},
      {"validFrom", dateField<&Event::valid_from>},
      {"validUntil", dateField<&Event::valid_until>},
      {"importedStatus", namedField<&Event::imported_status, parseStatus>},
      {"sourceVersion", textField<&Event::source_version>},
      {"applicationRef", textField<&Event::application_ref>},
      {"reason", textField<&Event::reason>},
      {"suspendedUntil", dateField<&Event::suspended_until>},
      {"annexNumber", textField<&Event::annex_number>},
      {"annexName", textField<&Event::annex_name>},
      {"annexAddress", textField<&Event::annex_address>},
      {"annexStatus", namedField<&Event::annex_status, parseStatus>},
  };
  return kReaders;
}

bool hasMember(const std::vector<Member>& members, std::string_view key) {
  return std::any_of(members.begin(), members.end(),
                     [key](const Member& member) { return member.key == key; });
}

}  // namespace

Result<Event> decodeEvent(std::string_view json) {
  MemberCollector collector;
  if (!Json::sax_parse(json, &collector)) {
    std::string why = collector.parseError().empty() ? "" : ": " + collector.parseError();
    return makeError(ErrorCode::kMalformed, "event is not valid JSON" + why);
  }
  if (!collector.rootIsObject()) {
    return makeError(ErrorCode::kMalformed, "event JSON must be an object");
  }
  if (!collector.firstRepeatedKey().empty()) {
    return makeError(ErrorCode::kInvalidField,
                     "field \"" + collector.firstRepeatedKey() + "\" is given twice");
  }
  std::vector<Member>& members = collector.members();

  // Type and date are required for every event; the rest depends on the
  // type and is checked by registry/validation.hpp.
  for (const char* required : {"type", "occurredOn"}) {
    if (!hasMember(members, required)) {
      return makeError(ErrorCode::kInvalidField, "missing field \"" + std::string(required) + "\"");
    }
  }

  Event event;
  const auto& readers = fieldReaders();
  for (Member& member : members) {
    if (member.key == "holder") {
      auto holder = decodeHolder(member);
      if (!holder) {
        return holder.takeError();
      }
      event.holder = std::move(*holder);
      continue;
    }
    auto reader = readers.find(member.key);
    if (reader == readers.end()) {
      return makeError(ErrorCode::kInvalidField, "unknown field \"" + member.key + "\"");
    }
    LICGATE_RETURN_IF_ERROR(reader->second(member, reader->first, event));
  }
  return event;
}

}  // namespace licgate::registry
