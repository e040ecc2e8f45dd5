// Content type parsing: "type/subtype; name=value; name=\"quoted value\"".
// Lenient on spacing because senders' AMQP and HTTP libraries differ in it.
#include "mapping/content_type.hpp"

#include <algorithm>
#include <cctype>

#include "mapping/encoding.hpp"

namespace licgate::mapping {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Unquotes a quoted-string (RFC 2045 section 5.1, RFC 822 quoted-pair).
std::string unquote(std::string_view value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') {
    return std::string(value);
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < value.size(); ++i) {
    if (value[i] == '\\' && i + 2 < value.size()) {
      ++i;
    }
    out += value[i];
  }
  return out;
}

}  // namespace

std::string contentTypeParameter(std::string_view content_type, std::string_view name) {
  std::size_t start = content_type.find(';');
  const std::string wanted = lowerAscii(name);
  while (start != std::string_view::npos) {
    std::size_t end = content_type.find(';', start + 1);
    std::string_view part = content_type.substr(
        start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1);
    std::size_t equals = part.find('=');
    if (equals != std::string_view::npos && lowerAscii(trim(part.substr(0, equals))) == wanted) {
      return unquote(trim(part.substr(equals + 1)));
    }
    start = end;
  }
  return {};
}

std::string charsetOfContentType(std::string_view content_type) {
  return lowerAscii(contentTypeParameter(content_type, "charset"));
}

std::string mediaTypeOf(std::string_view content_type) {
  return lowerAscii(trim(content_type.substr(0, content_type.find(';'))));
}

}  // namespace licgate::mapping
