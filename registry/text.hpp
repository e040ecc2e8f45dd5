// UTF-8 helpers for the register's checks and error messages.
//
// Error messages quote the bad value, and they travel on as JSON, XML and
// AMQP descriptions, which must be valid UTF-8 themselves; a value that is not
// is shown with its bad bytes escaped instead of copied.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "registry/result.hpp"

namespace licgate::registry {

// Decodes one UTF-8 sequence at `text[pos]` and advances `pos` past it.
// Empty (and `pos` unchanged) when the bytes there are not well-formed UTF-8
// (RFC 3629 section 3: no overlong forms, no surrogates, at most U+10FFFF).
std::optional<char32_t> decodeUtf8(std::string_view text, std::size_t& pos);

bool isValidUtf8(std::string_view text);

// The byte offset of the first U+FFFE or U+FFFF in UTF-8 text, if any. JSON
// and UTF-8 allow both, XML 1.0 (section 2.2) neither: a text holding one
// cannot be written into an XML answer.
std::optional<std::size_t> findXmlNoncharacter(std::string_view text);

// The characters (code points) of UTF-8 text, as XML Schema's length facets
// count them; an ill-formed byte counts as one.
std::size_t countCharacters(std::string_view text);

// An identifier the register and Redis keep and logs and XML carry (a
// message id, a system): at most `max_bytes`, as the AMQP intake bounds
// its ids, and without control characters, which would break the lines and
// documents that carry it. Errors: kInvalidField naming `what`.
Status checkIdentifier(std::string_view text, std::string_view what, std::size_t max_bytes);

// An nlohmann::json exception's what() without its
// "[json.exception.parse_error.101] " tag, which means nothing to a sender,
// and with the ill-formed bytes it quotes escaped as \xNN.
std::string jsonErrorText(std::string_view what);

// `text` made safe to quote in a message: ill-formed bytes and control
// characters become \xNN, and text over `max_bytes` is cut with "...".
std::string quoteForMessage(std::string_view text, std::size_t max_bytes = 80);

}  // namespace licgate::registry
