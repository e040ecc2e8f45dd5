// Source files of `licgate send` (gateway/source_files.hpp).
#include "gateway/source_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace licgate::gateway {

using registry::ErrorCode;
using registry::Result;

Result<SourceFormat> parseSourceFormat(std::string_view text) {
  if (text == "eru-xml") {
    return SourceFormat::kEruXml;
  }
  if (text == "eru-holders-csv") {
    return SourceFormat::kEruHoldersCsv;
  }
  if (text == "eru-establishments-csv") {
    return SourceFormat::kEruEstablishmentsCsv;
  }
  if (text == "xml") {
    return SourceFormat::kXml;
  }
  if (text == "json") {
    return SourceFormat::kJson;
  }
  return registry::makeError(ErrorCode::kInvalidField,
                             "format \"" + std::string(text) +
                                 "\" is not one of eru-xml, eru-holders-csv, "
                                 "eru-establishments-csv, xml, json");
}

Result<std::vector<mapping::SourceRecord>> readSourceFile(const std::string& path,
                                                          SourceFormat format) {
  // An ifstream opens a directory without complaint and reads nothing from
  // it, which would send one empty message: anything but a regular file is
  // refused before it is opened.
  std::error_code ignored;
  const auto status = std::filesystem::status(path, ignored);
  if (std::filesystem::is_directory(status)) {
    return registry::makeError(ErrorCode::kNotFound,
                               "file " + path + " cannot be read: it is a directory");
  }
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    return registry::makeError(ErrorCode::kNotFound,
                               "file " + path + " cannot be read: it is not a regular file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return registry::makeError(ErrorCode::kNotFound, "file " + path + " cannot be read");
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  std::string body = bytes.str();
  const std::string name = std::filesystem::path(path).filename().string();

  switch (format) {
    case SourceFormat::kEruXml:
      return mapping::splitEruXml(body);
    case SourceFormat::kEruHoldersCsv:
      return mapping::splitEruCsv(body, "eru-holder");
    case SourceFormat::kEruEstablishmentsCsv:
      return mapping::splitEruCsv(body, "eru-establishment");
    case SourceFormat::kXml:
      // The charset is left to the XML declaration or the BOM (XML 1.0
      // appendix F), which travel inside the body.
      return std::vector<mapping::SourceRecord>{{std::move(body), "application/xml", name}};
    case SourceFormat::kJson:
      return std::vector<mapping::SourceRecord>{{std::move(body), "application/json", name}};
  }
  return registry::makeError(ErrorCode::kInternal, "unknown source format");
}

}  // namespace licgate::gateway
