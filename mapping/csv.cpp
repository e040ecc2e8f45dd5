// RFC 4180 CSV, read strictly: a sender whose quoting is broken gets an
// error naming the line instead of a record whose columns slid sideways.
#include "mapping/csv.hpp"

namespace licgate::mapping {

using registry::ErrorCode;
using registry::makeError;
using registry::Result;

namespace {

registry::Error malformed(std::size_t line, std::string_view what) {
  return makeError(ErrorCode::kMalformed,
                   "CSV line " + std::to_string(line) + ": " + std::string(what));
}

// Reads records one at a time, keeping the line count for messages.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  bool atEnd() const { return at_ >= text_.size(); }
  std::size_t line() const { return line_; }

  // Skips empty lines; false when only empty lines were left.
  bool skipEmptyLines() {
    while (!atEnd() && (text_[at_] == '\n' || text_[at_] == '\r')) {
      consumeLineBreak();
    }
    return !atEnd();
  }

  Result<CsvRecord> readRecord() {
    CsvRecord record;
    record.line = line_;
    while (true) {
      auto field = atEnd() || text_[at_] != '"' ? readPlainField() : readQuotedField();
      if (!field) {
        return field.takeError();
      }
      record.fields.push_back(std::move(*field));
      if (atEnd()) {
        return record;
      }
      if (text_[at_] == ',') {
        ++at_;
        continue;
      }
      consumeLineBreak();
      return record;
    }
  }

 private:
  void consumeLineBreak() {
    if (text_[at_] == '\r' && at_ + 1 < text_.size() && text_[at_ + 1] == '\n') {
      ++at_;
    }
    ++at_;
    ++line_;
  }

  Result<std::string> readPlainField() {
    std::size_t start = at_;
    while (!atEnd() && text_[at_] != ',' && text_[at_] != '\n' && text_[at_] != '\r') {
      if (text_[at_] == '"') {
        return malformed(line_, "a quote inside an unquoted field");
      }
      ++at_;
    }
    return std::string(text_.substr(start, at_ - start));
  }

  // RFC 4180 section 2, rules 5-7: a doubled quote stands for one quote.
  Result<std::string> readQuotedField() {
    std::size_t opened_on = line_;
    std::string value;
    ++at_;
    while (true) {
      if (atEnd()) {
        return malformed(opened_on, "a quoted field is not closed");
      }
      char c = text_[at_++];
      if (c == '"') {
        if (!atEnd() && text_[at_] == '"') {
          value += '"';
          ++at_;
          continue;
        }
        break;
      }
      if (c == '\n') {
        ++line_;
      }
      value += c;
    }
    if (!atEnd() && text_[at_] != ',' && text_[at_] != '\n' && text_[at_] != '\r') {
      return malformed(line_, "a character after the closing quote of a field");
    }
    return value;
  }

  std::string_view text_;
  std::size_t at_ = 0;
  std::size_t line_ = 1;
};

bool needsQuotes(std::string_view field) {
  return field.find_first_of(",\"\r\n") != std::string_view::npos;
}

}  // namespace

Result<CsvTable> parseCsvTable(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  CsvReader reader(text);
  if (!reader.skipEmptyLines()) {
    return malformed(reader.line(), "no header line");
  }
  auto header = reader.readRecord();
  if (!header) {
    return header.takeError();
  }

  CsvTable table;
  table.header = std::move(header->fields);
  while (reader.skipEmptyLines()) {
    auto record = reader.readRecord();
    if (!record) {
      return record.takeError();
    }
    if (record->fields.size() != table.header.size()) {
      return malformed(record->line, "the row has " + std::to_string(record->fields.size()) +
                                         " fields, the header has " +
                                         std::to_string(table.header.size()));
    }
    table.rows.push_back(std::move(*record));
  }
  return table;
}

std::string writeCsvRecord(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    if (!needsQuotes(fields[i])) {
      out += fields[i];
      continue;
    }
    out += '"';
    for (char c : fields[i]) {
      out += c;
      if (c == '"') {
        out += '"';
      }
    }
    out += '"';
  }
  return out;
}

}  // namespace licgate::mapping
