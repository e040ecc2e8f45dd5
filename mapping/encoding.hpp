// Character encodings of inbound bytes.
//
// The register stores UTF-8. Inbound XML, JSON and CSV may arrive in another
// charset; it is found in this order (XML 1.0 appendix F):
//   1. a byte order mark (UTF-8, UTF-16 LE/BE);
//   2. for XML, the encoding in the XML declaration;
//   3. the charset parameter of the transport's content type;
//   4. UTF-8.
// Anything not UTF-8 is transcoded with iconv before a parser sees it.
// mapping/ does no I/O: bytes in, bytes out.
#pragma once

#include <string>
#include <string_view>

#include "registry/result.hpp"

namespace licgate::mapping {

using registry::Result;

enum class TextKind { kXml, kOther };

// Returns the text as UTF-8 without a BOM. For XML the declaration's
// encoding pseudo-attribute is rewritten to "UTF-8" so that the parser and
// the bytes agree.
//
// Errors:
// - kUnsupportedEncoding: a charset licgate does not know, naming it;
// - kInvalidEncoding: bytes that are not valid in their charset (invalid
//   UTF-8 names the byte offset), or a declaration that contradicts the BOM
//   or the bytes (an XML declaration saying UTF-16 on 8-bit text, a UTF-8
//   BOM before a windows-1250 declaration).
Result<std::string> toUtf8(std::string_view bytes, std::string_view transport_charset,
                           TextKind kind);

// Maps a charset name or alias as senders write it ("windows-1250",
// "cp1250", "x-cp1250", "KZ-1048", "RK1048", "STRK1048-2002", "utf8", ...)
// to the name glibc's iconv knows; kUnsupportedEncoding when unknown.
Result<std::string> canonicalCharset(std::string_view name);

// Converts UTF-8 text to `charset` (for tests and for senders that must
// write a legacy charset). kInvalidEncoding when a character has no
// equivalent there.
Result<std::string> fromUtf8(std::string_view utf8, std::string_view charset);

// The charset parameter of a MIME content type, lower-cased, or empty:
// "application/xml; charset=windows-1250" gives "windows-1250".
std::string charsetOfContentType(std::string_view content_type);

// The media type without parameters, lower-cased.
std::string mediaTypeOf(std::string_view content_type);

}  // namespace licgate::mapping
