// An RFC 4180 CSV reader and writer, for the record formats of foreign
// registers (mapping/eru.hpp). Text in, text out: no I/O, no charset work
// (mapping/encoding.hpp does that first).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "registry/result.hpp"

namespace licgate::mapping {

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  // 1-based line on which the record starts, for messages
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRecord> rows;  // each with as many fields as the header
};

// Reads RFC 4180 text: fields separated by commas, records by CRLF or LF; a
// field in double quotes may hold commas, line breaks and doubled quotes. A
// UTF-8 byte order mark, a final line break and empty lines are skipped.
// Errors (kMalformed, naming the line): a quoted field that is not closed, a
// character after a closing quote, a quote inside an unquoted field, a row
// whose field count differs from the header's, no header at all.
registry::Result<CsvTable> parseCsvTable(std::string_view text);

// One record, fields quoted where RFC 4180 section 2 requires it (a comma, a
// quote or a line break inside), without a line break at the end.
std::string writeCsvRecord(const std::vector<std::string>& fields);

}  // namespace licgate::mapping
