// Reading the XML declaration before any parser runs: licgate must know the
// charset to transcode the bytes, and pugixml must see a declaration that
// agrees with the UTF-8 it is given.
#include "mapping/xml_declaration.hpp"

namespace licgate::mapping {

using registry::ErrorCode;
using registry::makeError;
using registry::Result;

namespace {

// An XMLDecl is short; a "declaration" running past this is garbage, and
// scanning no further keeps the cost of a hostile body bounded.
constexpr std::size_t kMaxDeclarationBytes = 512;

bool isXmlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::size_t skipSpace(std::string_view text, std::size_t at) {
  while (at < text.size() && isXmlSpace(text[at])) {
    ++at;
  }
  return at;
}

registry::Error broken(std::size_t offset, std::string_view what) {
  return makeError(ErrorCode::kMalformed, "XML declaration is broken at byte offset " +
                                              std::to_string(offset) + ": " + std::string(what));
}

}  // namespace

Result<std::optional<XmlDeclaration>> findXmlDeclaration(std::string_view text) {
  if (text.size() < 6 || text.substr(0, 5) != "<?xml" || !isXmlSpace(text[5])) {
    return std::optional<XmlDeclaration>{};
  }
  std::string_view head = text.substr(0, kMaxDeclarationBytes);
  std::size_t close = head.find("?>");
  if (close == std::string_view::npos) {
    return broken(0, "no \"?>\" within " + std::to_string(kMaxDeclarationBytes) + " bytes");
  }

  // Pseudo-attributes: name S? '=' S? quoted value, separated by white space.
  XmlDeclaration declaration;
  declaration.end = close + 2;
  std::size_t at = skipSpace(head, 5);
  while (at < close) {
    std::size_t equals = head.find('=', at);
    if (equals == std::string_view::npos || equals > close) {
      return broken(at, "expected name=\"value\"");
    }
    std::string_view name = head.substr(at, equals - at);
    while (!name.empty() && isXmlSpace(name.back())) {
      name.remove_suffix(1);
    }
    std::size_t quote_at = skipSpace(head, equals + 1);
    char quote = quote_at < close ? head[quote_at] : '\0';
    if (quote != '"' && quote != '\'') {
      return broken(quote_at, "value of \"" + std::string(name) + "\" is not quoted");
    }
    std::size_t value_end = head.find(quote, quote_at + 1);
    if (value_end == std::string_view::npos || value_end > close) {
      return broken(quote_at, "value of \"" + std::string(name) + "\" is not closed");
    }
    if (name == "encoding") {
      declaration.encoding = std::string(head.substr(quote_at + 1, value_end - quote_at - 1));
      declaration.encoding_offset = quote_at + 1;
      declaration.encoding_length = value_end - quote_at - 1;
    }
    at = skipSpace(head, value_end + 1);
  }
  return std::optional<XmlDeclaration>{declaration};
}

std::string rewriteXmlEncoding(std::string_view text, const XmlDeclaration& declaration,
                               std::string_view encoding) {
  if (!declaration.encoding) {
    return std::string(text);
  }
  std::string out(text.substr(0, declaration.encoding_offset));
  out += encoding;
  out += text.substr(declaration.encoding_offset + declaration.encoding_length);
  return out;
}

}  // namespace licgate::mapping
