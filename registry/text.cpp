// UTF-8 decoding and quoting of values in error messages.
#include "registry/text.hpp"

#include <array>
#include <cstdio>
#include <limits>

namespace licgate::registry {

namespace {

int sequenceLength(unsigned char lead) {
  if (lead < 0x80) {
    return 1;
  }
  if ((lead >> 5) == 0x6) {
    return 2;
  }
  if ((lead >> 4) == 0xE) {
    return 3;
  }
  if ((lead >> 3) == 0x1E) {
    return 4;
  }
  return 0;
}

void appendEscaped(std::string& out, unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "\\x%02X", byte);
  out += buffer;
}

}  // namespace

std::optional<char32_t> decodeUtf8(std::string_view text, std::size_t& pos) {
  auto lead = static_cast<unsigned char>(text[pos]);
  int length = sequenceLength(lead);
  if (length == 0 || pos + length > text.size()) {
    return std::nullopt;
  }
  char32_t code_point = length == 1 ? lead : lead & (0x7F >> length);
  for (int i = 1; i < length; ++i) {
    auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xC0) != 0x80) {
      return std::nullopt;
    }
    code_point = (code_point << 6) | (next & 0x3F);
  }

  // Overlong forms would let one character have two spellings.
  constexpr std::array<char32_t, 5> kSmallest{0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return std::nullopt;
  }
  pos += length;
  return code_point;
}

bool isValidUtf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    // ASCII needs no decoding; most register text is mostly ASCII.
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    if (!decodeUtf8(text, pos)) {
      return false;
    }
  }
  return true;
}

std::optional<std::size_t> findXmlNoncharacter(std::string_view text) {
  // U+FFFE and U+FFFF are EF BF BE and EF BF BF; in well-formed UTF-8 those
  // bytes mean nothing else.
  for (std::size_t at = text.find('\xEF'); at != std::string_view::npos;
       at = text.find('\xEF', at + 1)) {
    if (at + 2 < text.size() && text[at + 1] == '\xBF' &&
        (text[at + 2] == '\xBE' || text[at + 2] == '\xBF')) {
      return at;
    }
  }
  return std::nullopt;
}

Status checkIdentifier(std::string_view text, std::string_view what, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    return makeError(ErrorCode::kInvalidField, std::string(what) + " has " +
                                                   std::to_string(text.size()) +
                                                   " bytes; at most " + std::to_string(max_bytes));
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) {
      return makeError(ErrorCode::kInvalidField, std::string(what) + " \"" + quoteForMessage(text) +
                                                     "\" holds a control character");
    }
  }
  return {};
}

std::size_t countCharacters(std::string_view text) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!decodeUtf8(text, pos)) {
      ++pos;
    }
    ++count;
  }
  return count;
}

std::string quoteForMessage(std::string_view text, std::size_t max_bytes) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    std::size_t start = pos;
    auto code_point = decodeUtf8(text, pos);
    if (!code_point) {
      appendEscaped(out, static_cast<unsigned char>(text[pos]));
      ++pos;
      continue;
    }
    if (*code_point < 0x20 || *code_point == 0x7F) {
      appendEscaped(out, static_cast<unsigned char>(*code_point));
      continue;
    }
    out.append(text.substr(start, pos - start));
  }
  return out;
}

std::string jsonErrorText(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    const std::size_t end = what.find("] ");
    if (end != std::string_view::npos) {
      what.remove_prefix(end + 2);
    }
  }
  // nlohmann quotes the bytes it stopped at ("last read: '\xff'") as they
  // came, and an error that is not valid UTF-8 cannot travel in an AMQP
  // string, a JSON reply or an XML fault.
  return quoteForMessage(what, std::numeric_limits<std::size_t>::max());
}

}  // namespace licgate::registry
