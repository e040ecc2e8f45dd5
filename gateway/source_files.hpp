// Reading the files `licgate send` sends: each becomes a list of records,
// one message each, in the record's own bytes and charset (licgate maps them
// on arrival, so a sender needs no knowledge of the register's model).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mapping/eru.hpp"
#include "registry/result.hpp"

namespace licgate::gateway {

enum class SourceFormat : std::uint8_t {
  kEruXml,                // the ERÚ XML export: one message per licence
  kEruHoldersCsv,         // the ERÚ holders CSV: one message per row
  kEruEstablishmentsCsv,  // the ERÚ establishments CSV: one message (an annex) per row
  kXml,                   // one canonical event XML per file
  kJson,                  // one canonical event JSON per file
};

// "eru-xml", "eru-holders-csv", "eru-establishments-csv", "xml", "json".
// kInvalidField naming the text and the known names otherwise.
registry::Result<SourceFormat> parseSourceFormat(std::string_view text);

// Reads `path` and splits it into records with their content types.
// Errors: kNotFound when the file cannot be read or is not a regular file
// (a directory, say); the splitters' kMalformed
// or kInvalidEncoding when it is not in the format named.
registry::Result<std::vector<mapping::SourceRecord>> readSourceFile(const std::string& path,
                                                                    SourceFormat format);

}  // namespace licgate::gateway
