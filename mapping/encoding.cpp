// Finding the charset of inbound bytes and transcoding them to UTF-8.
//
// The order of evidence is XML 1.0 appendix F: a byte order mark, then the
// XML declaration, then the transport's charset (RFC 2046 section 4.1.2),
// then UTF-8. Evidence that contradicts the bytes is an error rather than a
// guess: a register that stored mis-decoded names would spread them to every
// system that reads it.
#include "mapping/encoding.hpp"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <optional>

#include "mapping/xml_declaration.hpp"

namespace licgate::mapping {

using registry::ErrorCode;
using registry::makeError;

namespace {

enum class Family { kUtf8, kUtf16, kUtf16Le, kUtf16Be, kSingleByte };

struct Charset {
  std::string_view iconv_name;  // as glibc's iconv knows it
  std::string_view display;     // as messages name it
  Family family;
};

struct Alias {
  std::string_view name;  // lower case, as senders write it
  Charset charset;
};

constexpr Charset kUtf8{"UTF-8", "UTF-8", Family::kUtf8};
constexpr Charset kUtf16{"UTF-16", "UTF-16", Family::kUtf16};
constexpr Charset kUtf16Le{"UTF-16LE", "UTF-16LE", Family::kUtf16Le};
constexpr Charset kUtf16Be{"UTF-16BE", "UTF-16BE", Family::kUtf16Be};
constexpr Charset kCp1250{"CP1250", "windows-1250", Family::kSingleByte};
constexpr Charset kCp1251{"CP1251", "windows-1251", Family::kSingleByte};
constexpr Charset kCp1252{"CP1252", "windows-1252", Family::kSingleByte};
constexpr Charset kRk1048{"RK1048", "KZ-1048", Family::kSingleByte};
constexpr Charset kLatin1{"ISO-8859-1", "ISO-8859-1", Family::kSingleByte};
constexpr Charset kLatin2{"ISO-8859-2", "ISO-8859-2", Family::kSingleByte};
constexpr Charset kCyrillic{"ISO-8859-5", "ISO-8859-5", Family::kSingleByte};
constexpr Charset kKoi8r{"KOI8-R", "KOI8-R", Family::kSingleByte};
constexpr Charset kAscii{"ASCII", "US-ASCII", Family::kSingleByte};

// The names real senders put in declarations and content types: IANA names,
// Java and .NET spellings, and the Kazakh standard's own names for KZ-1048
// (STRK1048-2002), which glibc calls RK1048.
constexpr Alias kAliases[] = {
    {"utf-8", kUtf8},           {"utf8", kUtf8},           {"unicode-1-1-utf-8", kUtf8},
    {"utf-16", kUtf16},         {"utf16", kUtf16},         {"utf-16le", kUtf16Le},
    {"utf-16be", kUtf16Be},     {"windows-1250", kCp1250}, {"windows1250", kCp1250},
    {"win-1250", kCp1250},      {"win1250", kCp1250},      {"cp1250", kCp1250},
    {"cp-1250", kCp1250},       {"x-cp1250", kCp1250},     {"ms-ee", kCp1250},
    {"windows-1251", kCp1251},  {"windows1251", kCp1251},  {"win-1251", kCp1251},
    {"win1251", kCp1251},       {"cp1251", kCp1251},       {"cp-1251", kCp1251},
    {"x-cp1251", kCp1251},      {"windows-1252", kCp1252}, {"cp1252", kCp1252},
    {"x-cp1252", kCp1252},      {"kz-1048", kRk1048},      {"kz1048", kRk1048},
    {"kz_1048", kRk1048},       {"rk1048", kRk1048},       {"strk1048-2002", kRk1048},
    {"strk1048", kRk1048},      {"iso-8859-1", kLatin1},   {"iso8859-1", kLatin1},
    {"iso_8859-1", kLatin1},    {"latin1", kLatin1},       {"iso-8859-2", kLatin2},
    {"iso8859-2", kLatin2},     {"iso_8859-2", kLatin2},   {"latin2", kLatin2},
    {"iso-8859-5", kCyrillic},  {"iso8859-5", kCyrillic},  {"koi8-r", kKoi8r},
    {"koi8r", kKoi8r},          {"us-ascii", kAscii},      {"ascii", kAscii},
    {"ansi_x3.4-1968", kAscii}, {"iso646-us", kAscii},
};

std::string lowerTrimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<Charset> lookUpCharset(std::string_view name) {
  const std::string key = lowerTrimmed(name);
  for (const Alias& alias : kAliases) {
    if (alias.name == key) {
      return alias.charset;
    }
  }
  return makeError(ErrorCode::kUnsupportedEncoding,
                   "charset \"" + std::string(name) +
                       "\" is not supported (supported: UTF-8, UTF-16, windows-1250, "
                       "windows-1251, windows-1252, KZ-1048, ISO-8859-1, ISO-8859-2, ISO-8859-5, "
                       "KOI8-R, US-ASCII and their common aliases)");
}

std::string hexByte(unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", byte);
  return buffer;
}

// Length of the valid UTF-8 sequence starting at `at`, or 0 when it is not
// one (RFC 3629 section 4: no overlong forms, no surrogates, up to U+10FFFF).
std::size_t utf8SequenceLength(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = lead >= 0xC2 && lead <= 0xDF   ? 2
                       : lead >= 0xE0 && lead <= 0xEF ? 3
                       : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                      : 0;
  if (length == 0 || at + length > text.size()) {
    return 0;
  }
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead == 0xE0) {
    low = 0xA0;
  } else if (lead == 0xED) {
    high = 0x9F;
  } else if (lead == 0xF0) {
    low = 0x90;
  } else if (lead == 0xF4) {
    high = 0x8F;
  }
  if (byte(at + 1) < low || byte(at + 1) > high) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) {
      return 0;
    }
  }
  return length;
}

// Offset of the first byte that is not valid UTF-8, if any.
std::optional<std::size_t> findInvalidUtf8(std::string_view text) {
  std::size_t at = 0;
  while (at < text.size()) {
    // Runs of ASCII, most of a message, skip the sequence decoder.
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    std::size_t length = utf8SequenceLength(text, at);
    if (length == 0) {
      return at;
    }
    at += length;
  }
  return std::nullopt;
}

class Iconv {
 public:
  Iconv(std::string_view to, std::string_view from)
      : handle_(iconv_open(std::string(to).c_str(), std::string(from).c_str())) {}
  ~Iconv() {
    if (ok()) {
      iconv_close(handle_);
    }
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;

  bool ok() const { return handle_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return handle_; }

 private:
  iconv_t handle_;
};

struct ConversionFailure {
  std::size_t offset;  // of the input byte where conversion stopped
  bool truncated;      // the input ends inside a character
};

// Converts all of `input`; on failure says where it stopped.
Result<std::string> convert(std::string_view input, const Charset& from, const Charset& to,
                            ConversionFailure& failure) {
  Iconv converter(to.iconv_name, from.iconv_name);
  if (!converter.ok()) {
    return makeError(ErrorCode::kUnsupportedEncoding,
                     "charset " + std::string(from.display) + " to " + std::string(to.display) +
                         " is not available in this system's iconv");
  }
  std::string out(input.size() * 4 + 16, '\0');
  char* in_ptr = const_cast<char*>(input.data());
  std::size_t in_left = input.size();
  char* out_ptr = out.data();
  std::size_t out_left = out.size();
  while (in_left > 0) {
    std::size_t done = iconv(converter.get(), &in_ptr, &in_left, &out_ptr, &out_left);
    if (done != static_cast<std::size_t>(-1)) {
      continue;
    }
    if (errno == E2BIG) {
      std::size_t used = out.size() - out_left;
      out.resize(out.size() * 2);
      out_ptr = out.data() + used;
      out_left = out.size() - used;
      continue;
    }
    failure = {input.size() - in_left, errno == EINVAL};
    return makeError(ErrorCode::kInvalidEncoding, "conversion failed");
  }
  out.resize(out.size() - out_left);
  return out;
}

// Where the charset came from, for messages that tell the sender what to fix.
struct CharsetChoice {
  Charset charset;
  std::string source;  // "the XML declaration", "the transport's charset", ...
  bool declared;       // named by the sender, not assumed
};

registry::Error invalidUtf8(std::string_view bytes, std::size_t offset,
                            const CharsetChoice& choice) {
  std::string message = "invalid UTF-8 at byte offset " + std::to_string(offset) + " (" +
                        hexByte(static_cast<unsigned char>(bytes[offset])) + ")";
  ConversionFailure ignored{};
  bool reads_as_1250 = convert(bytes, kCp1250, kUtf8, ignored).ok();
  if (choice.declared && reads_as_1250) {
    message +=
        ": UTF-8 named by " + choice.source + " contradicts the bytes, which read as windows-1250";
  } else if (!choice.declared) {
    message += "; no charset was declared, so UTF-8 was assumed";
  }
  return makeError(ErrorCode::kInvalidEncoding, message);
}

Result<std::string> decodeAs(std::string_view bytes, const CharsetChoice& choice) {
  if (choice.charset.family == Family::kUtf8) {
    if (auto bad = findInvalidUtf8(bytes)) {
      return invalidUtf8(bytes, *bad, choice);
    }
    return std::string(bytes);
  }
  ConversionFailure failure{};
  auto text = convert(bytes, choice.charset, kUtf8, failure);
  if (!text && text.error().code == ErrorCode::kInvalidEncoding) {
    std::string what = failure.truncated
                           ? "the text ends inside a character"
                           : "byte " + hexByte(static_cast<unsigned char>(bytes[failure.offset])) +
                                 " is not a character";
    return makeError(ErrorCode::kInvalidEncoding,
                     "not valid " + std::string(choice.charset.display) + " (named by " +
                         choice.source + "): " + what + " at byte offset " +
                         std::to_string(failure.offset));
  }
  return text;
}

struct Bom {
  Charset charset;
  std::size_t length;
};

std::optional<Bom> detectBom(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    return Bom{kUtf8, 3};
  }
  if (bytes.substr(0, 2) == "\xFF\xFE") {
    return Bom{kUtf16Le, 2};
  }
  if (bytes.substr(0, 2) == "\xFE\xFF") {
    return Bom{kUtf16Be, 2};
  }
  return std::nullopt;
}

// XML 1.0 appendix F: "<?" in UTF-16 without a byte order mark.
std::optional<Charset> detectBareUtf16(std::string_view bytes) {
  if (bytes.substr(0, 4) == std::string_view("<\0?\0", 4)) {
    return kUtf16Le;
  }
  if (bytes.substr(0, 4) == std::string_view("\0<\0?", 4)) {
    return kUtf16Be;
  }
  return std::nullopt;
}

bool isUtf16(Family family) {
  return family == Family::kUtf16 || family == Family::kUtf16Le || family == Family::kUtf16Be;
}

// A declaration agrees with the byte order mark (or bare UTF-16 pattern)
// when it names the same encoding form; "UTF-16" fits either byte order.
bool declarationAgrees(const Charset& found, const Charset& declared) {
  if (found.family == Family::kUtf8) {
    return declared.family == Family::kUtf8;
  }
  return declared.family == Family::kUtf16 || declared.family == found.family;
}

// XML whose charset the first bytes already tell (a byte order mark, or
// UTF-16 without one): the declaration may only confirm it.
Result<std::string> decodeXmlWithKnownForm(std::string_view bytes, const Charset& found,
                                           std::string_view evidence) {
  auto text = decodeAs(bytes, {found, std::string(evidence), true});
  if (!text) {
    return text;
  }
  auto declaration = findXmlDeclaration(*text);
  if (!declaration) {
    return declaration.takeError();
  }
  if (!*declaration || !(*declaration)->encoding) {
    return text;
  }
  const std::string& named = *(*declaration)->encoding;
  auto declared = lookUpCharset(named);
  if (!declared) {
    return declared.takeError();
  }
  if (!declarationAgrees(found, *declared)) {
    return makeError(ErrorCode::kInvalidEncoding,
                     std::string(evidence) + " says " + std::string(found.display) +
                         " but the XML declaration says \"" + named + "\"");
  }
  return rewriteXmlEncoding(*text, **declaration, "UTF-8");
}

// The charset of XML whose first bytes are single-byte ASCII: the
// declaration's, else the transport's, else UTF-8. UTF-16 named by either
// contradicts those bytes.
Result<CharsetChoice> chooseEightBitCharset(std::string_view bytes,
                                            const std::optional<XmlDeclaration>& declaration,
                                            std::string_view transport_charset) {
  if (declaration && declaration->encoding) {
    auto declared = lookUpCharset(*declaration->encoding);
    if (!declared) {
      return declared.takeError();
    }
    if (isUtf16(declared->family)) {
      return makeError(ErrorCode::kInvalidEncoding,
                       "the XML declaration says \"" + *declaration->encoding +
                           "\" but the document's bytes are 8-bit: \"<?xml\" is written in "
                           "single bytes and there is no byte order mark");
    }
    return CharsetChoice{*declared, "the XML declaration", true};
  }
  if (transport_charset.empty()) {
    return CharsetChoice{kUtf8, "default", false};
  }
  auto transport = lookUpCharset(transport_charset);
  if (!transport) {
    return transport.takeError();
  }
  if (isUtf16(transport->family) && bytes.size() >= 2 && bytes[0] == '<' && bytes[1] != '\0') {
    return makeError(ErrorCode::kInvalidEncoding,
                     "the transport's charset says \"" + std::string(transport_charset) +
                         "\" but the document's bytes are 8-bit: \"<\" is written in a "
                         "single byte and there is no byte order mark");
  }
  return CharsetChoice{*transport, "the transport's charset", true};
}

Result<std::string> decodeXml(std::string_view bytes, std::string_view transport_charset) {
  if (auto bom = detectBom(bytes)) {
    return decodeXmlWithKnownForm(bytes.substr(bom->length), bom->charset, "the byte order mark");
  }
  if (auto utf16 = detectBareUtf16(bytes)) {
    return decodeXmlWithKnownForm(bytes, *utf16, "the byte pattern of \"<?\"");
  }

  auto declaration = findXmlDeclaration(bytes);
  if (!declaration) {
    return declaration.takeError();
  }
  auto choice = chooseEightBitCharset(bytes, *declaration, transport_charset);
  if (!choice) {
    return choice.takeError();
  }

  auto text = decodeAs(bytes, *choice);
  if (!text || !*declaration) {
    return text;
  }
  // The declaration is ASCII in every supported 8-bit charset, so it sits at
  // the same offsets in the UTF-8 text.
  return rewriteXmlEncoding(*text, **declaration, "UTF-8");
}

}  // namespace

Result<std::string> toUtf8(std::string_view bytes, std::string_view transport_charset,
                           TextKind kind) {
  if (kind == TextKind::kXml) {
    return decodeXml(bytes, transport_charset);
  }
  if (auto bom = detectBom(bytes)) {
    return decodeAs(bytes.substr(bom->length), {bom->charset, "the byte order mark", true});
  }
  if (transport_charset.empty()) {
    return decodeAs(bytes, {kUtf8, "default", false});
  }
  auto transport = lookUpCharset(transport_charset);
  if (!transport) {
    return transport.takeError();
  }
  auto text = decodeAs(bytes, {*transport, "the transport's charset", true});
  if (text && text->substr(0, 3) == "\xEF\xBB\xBF") {
    return text->substr(3);
  }
  return text;
}

Result<std::string> canonicalCharset(std::string_view name) {
  auto charset = lookUpCharset(name);
  if (!charset) {
    return charset.takeError();
  }
  return std::string(charset->iconv_name);
}

Result<std::string> fromUtf8(std::string_view utf8, std::string_view charset) {
  auto target = lookUpCharset(charset);
  if (!target) {
    return target.takeError();
  }
  if (auto bad = findInvalidUtf8(utf8)) {
    return makeError(ErrorCode::kInvalidEncoding,
                     "invalid UTF-8 at byte offset " + std::to_string(*bad) + " (" +
                         hexByte(static_cast<unsigned char>(utf8[*bad])) + ")");
  }
  if (target->family == Family::kUtf8) {
    return std::string(utf8);
  }
  ConversionFailure failure{};
  auto out = convert(utf8, kUtf8, *target, failure);
  if (!out && out.error().code == ErrorCode::kInvalidEncoding) {
    std::size_t length = utf8SequenceLength(utf8, failure.offset);
    return makeError(ErrorCode::kInvalidEncoding,
                     "the character \"" + std::string(utf8.substr(failure.offset, length)) +
                         "\" at byte offset " + std::to_string(failure.offset) +
                         " has no equivalent in " + std::string(target->display));
  }
  return out;
}

}  // namespace licgate::mapping
