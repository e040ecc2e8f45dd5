// From an inbound body to a register event, by content type. The steps run
// cheapest first so that a hostile body costs little: the size limit before
// any byte is read, the charset before any parser, the parser before the
// register's field rules.
#include "mapping/inbound_decoder.hpp"

#include <functional>

#include "mapping/content_type.hpp"
#include "mapping/encoding.hpp"
#include "mapping/eru.hpp"
#include "mapping/event_xml.hpp"
#include "registry/event_codec.hpp"
#include "registry/validation.hpp"

namespace licgate::mapping {

using registry::ErrorCode;
using registry::Event;
using registry::makeError;
using registry::Result;

namespace {

using Parser = std::function<Result<Event>(std::string_view)>;

struct Format {
  TextKind kind;
  Parser parse;
};

Result<Event> parseCanonicalJson(std::string_view utf8) {
  return registry::decodeEvent(utf8);
}

// The content types licgate maps (docs/event-format.md, "Content types").
Result<Format> formatOf(std::string_view content_type) {
  const std::string media = mediaTypeOf(content_type);
  if (media == "application/xml" || media == "text/xml") {
    return Format{TextKind::kXml, parseEventXml};
  }
  if (media == "application/json") {
    return Format{TextKind::kOther, parseCanonicalJson};
  }
  if (media == "application/vnd.licgate.eru-licence+xml") {
    return Format{TextKind::kXml, mapEruXmlRecord};
  }
  if (media != "text/csv") {
    return makeError(ErrorCode::kMalformed,
                     "content type \"" + std::string(content_type) +
                         "\" is not one licgate reads (application/xml, text/xml, "
                         "application/json, application/vnd.licgate.eru-licence+xml, text/csv)");
  }
  const std::string profile = contentTypeParameter(content_type, "profile");
  if (profile == "eru-holder") {
    return Format{TextKind::kOther, mapEruHolderCsv};
  }
  if (profile == "eru-establishment") {
    return Format{TextKind::kOther, mapEruEstablishmentCsv};
  }
  return makeError(ErrorCode::kNotImplemented,
                   "text/csv with profile \"" + profile +
                       "\" is not mapped; licgate maps the profiles eru-holder and "
                       "eru-establishment");
}

}  // namespace

Result<Event> decodeInbound(std::string_view body, std::string_view content_type,
                            const DecodeLimits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return makeError(ErrorCode::kTooLarge, "message body of " + std::to_string(body.size()) +
                                               " bytes is over the limit of " +
                                               std::to_string(limits.max_body_bytes) + " bytes");
  }
  auto format = formatOf(content_type);
  if (!format) {
    return format.takeError();
  }
  auto utf8 = toUtf8(body, charsetOfContentType(content_type), format->kind);
  if (!utf8) {
    return utf8.takeError();
  }
  auto event = format->parse(*utf8);
  if (!event) {
    return event;
  }
  registry::Status valid = registry::validateEvent(*event);
  if (!valid.ok()) {
    return valid.takeError();
  }
  return event;
}

}  // namespace licgate::mapping
