// The event reader against the json-tree reader it replaced: every text,
// valid or not, must give the same event or the same error (code and
// message), since senders see these messages and stored journals are read
// back through it. The reference below is that tree reader, kept here only
// as the oracle, with what the reader has learnt since: repeated keys are
// refused (seen through the tree parser's callback), and a syntax error is
// described.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "registry/event_codec.hpp"
#include "registry/text.hpp"
#include "test/registry/event_samples.hpp"

namespace licgate::registry {
namespace {

using Json = nlohmann::ordered_json;
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

template <typename Target, typename Parse>
FieldReader field(Target Event::*member, std::string name, Parse parse) {
  return [member, name, parse](const Json& value, Event& event) -> Status {
    auto text = readText(value, name);
    if (!text) {
      return text.takeError();
    }
    auto parsed = parse(*text, name);
    if (!parsed) {
      return parsed.takeError();
    }
    event.*member = *parsed;
    return {};
  };
}

Result<std::string> asText(const std::string& text, const std::string& /*name*/) {
  return text;
}

Result<Date> asDate(const std::string& text, const std::string& name) {
  return parseIsoDate(text, name);
}

template <typename Parse>
auto named(Parse parse) {
  return [parse](const std::string& text, const std::string& name) {
    auto parsed = parse(text);
    using Value = std::decay_t<decltype(*parsed)>;
    if (!parsed) {
      return Result<Value>(
          makeError(ErrorCode::kInvalidField, "field \"" + name + "\": " + parsed.error().message));
    }
    return Result<Value>(*parsed);
  };
}

Result<Holder> referenceHolder(const Json& value) {
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

const std::map<std::string, FieldReader, std::less<>>& referenceReaders() {
  static const std::map<std::string, FieldReader, std::less<>> kReaders{
      {"type", field(&Event::type, "type", named(parseEventType))},
      {"licensor", field(&Event::licensor, "licensor", asText)},
      {"occurredOn", field(&Event::occurred_on, "occurredOn", asDate)},
      {"licenceNumber", field(&Event::licence_number, "licenceNumber", asText)},
      {"numberKind", field(&Event::number_kind, "numberKind", named(parseNumberKind))},
      {"goodsList", field(&Event::goods_list, "goodsList", asText)},
      {"sealCode", field(&Event::seal_code, "sealCode", asText)},
      {"activityCode", field(&Event::activity_code, "activityCode", asText)},
      {"validFrom", field(&Event::valid_from, "validFrom", asDate)},
      {"validUntil", field(&Event::valid_until, "validUntil", asDate)},
      {"importedStatus", field(&Event::imported_status, "importedStatus", named(parseStatus))},
      {"sourceVersion", field(&Event::source_version, "sourceVersion", asText)},
      {"applicationRef", field(&Event::application_ref, "applicationRef", asText)},
      {"reason", field(&Event::reason, "reason", asText)},
      {"suspendedUntil", field(&Event::suspended_until, "suspendedUntil", asDate)},
      {"annexNumber", field(&Event::annex_number, "annexNumber", asText)},
      {"annexName", field(&Event::annex_name, "annexName", asText)},
      {"annexAddress", field(&Event::annex_address, "annexAddress", asText)},
      {"annexStatus", field(&Event::annex_status, "annexStatus", named(parseStatus))},
  };
  return kReaders;
}

// The first key repeated in the event object or in an object that is one of
// its members ("reason", "holder.name"), seen through the tree parser's
// callback: every object open is on `open`, with the keys met in it, and
// only the event's own keys and those of its member objects are watched.
class RepeatWatch {
 public:
  bool onEvent(int /*depth*/, nlohmann::json::parse_event_t event, const Json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start || event == Event::array_start) {
      bool watched = open_.empty() || (open_.size() == 1 && open_.back().is_object);
      open_.push_back({event == Event::object_start && watched, {}, pending_key_});
    } else if (event == Event::object_end || event == Event::array_end) {
      open_.pop_back();
    } else if (event == Event::key && open_.back().is_object) {
      Open& here = open_.back();
      std::string key = parsed.get<std::string>();
      if (!here.keys.insert(key).second && repeated.empty()) {
        repeated = here.parent_key.empty() ? key : here.parent_key + "." + key;
      }
      pending_key_ = key;
    }
    return true;
  }

  std::string repeated;

 private:
  struct Open {
    bool is_object;  // an object whose keys are watched
    std::set<std::string> keys;
    std::string parent_key;  // the member it is the value of
  };
  std::vector<Open> open_;
  std::string pending_key_;
};

// What nlohmann says of the text, without its "[json.exception...] " tag.
std::string parseErrorOf(std::string_view json) {
  try {
    Json parsed = Json::parse(json);
  } catch (const nlohmann::json::exception& error) {
    return jsonErrorText(error.what());
  }
  return "";
}

Result<Event> referenceDecode(std::string_view json) {
  RepeatWatch watch;
  Json document = Json::parse(
      json,
      [&watch](int depth, nlohmann::json::parse_event_t event, Json& parsed) {
        return watch.onEvent(depth, event, parsed);
      },
      /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return makeError(ErrorCode::kMalformed, "event is not valid JSON: " + parseErrorOf(json));
  }
  if (!document.is_object()) {
    return makeError(ErrorCode::kMalformed, "event JSON must be an object");
  }
  if (!watch.repeated.empty()) {
    return makeError(ErrorCode::kInvalidField, "field \"" + watch.repeated + "\" is given twice");
  }
  for (const char* required : {"type", "occurredOn"}) {
    if (!document.contains(required)) {
      return makeError(ErrorCode::kInvalidField, "missing field \"" + std::string(required) + "\"");
    }
  }
  Event event;
  for (const auto& [key, value] : document.items()) {
    if (key == "holder") {
      auto holder = referenceHolder(value);
      if (!holder) {
        return holder.takeError();
      }
      event.holder = std::move(*holder);
      continue;
    }
    auto reader = referenceReaders().find(key);
    if (reader == referenceReaders().end()) {
      return makeError(ErrorCode::kInvalidField, "unknown field \"" + key + "\"");
    }
    LICGATE_RETURN_IF_ERROR(reader->second(value, event));
  }
  return event;
}

void expectSameAsReference(const std::string& json) {
  auto expected = referenceDecode(json);

  auto decoded = decodeEvent(json);

  ASSERT_EQ(decoded.ok(), expected.ok()) << json;
  if (expected.ok()) {
    EXPECT_EQ(*decoded, *expected) << json;
  } else {
    EXPECT_EQ(decoded.error().code, expected.error().code) << json;
    EXPECT_EQ(decoded.error().message, expected.error().message) << json;
  }
}

TEST(EventCodecReader, MatchesTreeReaderOnHandWrittenTexts) {
  const std::vector<std::string> texts{
      R"({"type":"issue","occurredOn":"2026-01-05"})",
      R"({"type":"issue","occurredOn":"2026-01-05","type":"refuse"})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"name":"A"},"holder":{"name":"B"}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"name":"A","name":"B"}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":"Obec"})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":["name","A"]})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"name":{"first":"A"}}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"name":["A"]}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"nick":"A"}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"idScheme":"cz-ico"}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"idScheme":"xx","id":"1"}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":null})",
      R"({"type":"issue","occurredOn":"2026-01-05","reason":{"a":[1,{"b":2}]},"x":1})",
      R"({"type":"issue","occurredOn":"2026-01-05","reason":[[["deep"]]]})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":true})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":null})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":1.5e3})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":-7})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":"\u010cEZ \"a\" \\ \n"})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":"\ud83d\ude00"})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":"\ud83d"})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensor":1e999})",
      R"({"type":"revoke","occurredOn":"2026-01-05"})",
      R"({"type":"issue","occurredOn":"2026-13-05"})",
      R"({"type":"issue","occurredOn":"2026-01-05","numberKind":"legacy"})",
      R"({"type":"issue","occurredOn":"2026-01-05","numberKind":"roman"})",
      R"({"type":"import","occurredOn":"2026-01-05","importedStatus":"asleep"})",
      R"({"occurredOn":"2026-01-05","licensr":"X"})",
      R"({"type":"issue","licensr":"X"})",
      R"({"type":"issue","occurredOn":"2026-01-05","licensr":"X"})",
      R"({"type":1,"occurredOn":2})",
      R"({"type":"issue","occurredOn":"2026-01-05"} )",
      R"( {"type":"issue","occurredOn":"2026-01-05"})",
      R"({"type":"issue","occurredOn":"2026-01-05"}})",
      R"({"type":"issue","occurredOn":"2026-01-05"} x)",
      R"({"type":"issue","occurredOn":"2026-01-05",})",
      R"({"type":"issue" "occurredOn":"2026-01-05"})",
      R"({'type':'issue'})",
      "{\"type\":\"issue\",\"occurredOn\":\"2026-01-05\",\"reason\":\"a\tb\"}",
      "{\"type\":\"issue\",\"occurredOn\":\"2026-01-05\",\"reason\":\"\xC3\x28\"}",
      "{\"type\":\"issue\",\"occurredOn\":\"2026-01-05\",\"reason\":\"\xE2\x82\"}",
      "{\"type\":\"issue\",\"occurredOn\":\"2026-01-05\"}\0",
      R"({"type":"issue","occurredOn":"2026-01-05"} // note)",
      R"([1, 2])",
      R"([{"type":"issue"}])",
      R"([{"type":"issue","type":"issue"}])",
      R"({"type":"issue","occurredOn":"2026-01-05","reason":[{"a":1,"a":1}]})",
      R"({"type":"issue","occurredOn":"2026-01-05","reason":{"a":{"b":1,"b":2}}})",
      R"({"type":"issue","occurredOn":"2026-01-05","reason":{"a":1,"a":2}})",
      R"({"type":"issue","occurredOn":"2026-01-05","holder":{"name":"A"},"reason":"x","reason":"y"})",
      R"("issue")",
      R"(null)",
      R"(42)",
      R"({})",
      "",
      " ",
      "{",
      "\xEF\xBB\xBF{\"type\":\"issue\",\"occurredOn\":\"2026-01-05\"}",
  };

  for (const std::string& text : texts) {
    expectSameAsReference(text);
  }
}

TEST(EventCodecReader, MatchesTreeReaderOnEncodedSampleEvents) {
  const std::vector<Event> events{
      samples::issueEvent(),
      samples::refuseEvent(),
      samples::importEvent("310100016", LicenceStatus::kActive),
      samples::licenceEvent(EventType::kReissue, "26000001"),
      samples::annexEvent(EventType::kAnnexImport, "26000001", "001"),
  };

  for (const Event& event : events) {
    expectSameAsReference(encodeEvent(event));
  }
}

// Every prefix of a valid text, and random bytes changed in it: malformed
// JSON, truncated strings, keys that became other keys, values that became
// other types.
TEST(EventCodecReader, MatchesTreeReaderOnDamagedTexts) {
  Event event = samples::importEvent("310100016", LicenceStatus::kActive);
  event.holder->name = "ТОО «Қазақ Жылу» \"Příliš\"\n";
  std::string json = encodeEvent(event);
  std::mt19937 random(7);
  std::uniform_int_distribution<std::size_t> position(0, json.size() - 1);
  const std::string replacements = "{}[]\":,0aé\\ n";
  std::uniform_int_distribution<std::size_t> replacement(0, replacements.size() - 1);

  for (std::size_t length = 0; length <= json.size(); ++length) {
    expectSameAsReference(json.substr(0, length));
  }
  for (int i = 0; i < 3000; ++i) {
    std::string damaged = json;
    for (int changes = 1 + i % 3; changes > 0; --changes) {
      damaged[position(random)] = replacements[replacement(random)];
    }
    expectSameAsReference(damaged);
  }
}

}  // namespace
}  // namespace licgate::registry
