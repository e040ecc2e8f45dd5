// The ERÚ files as message bodies: cutting an export into one record per
// message, and reading one record (XML element or CSV row) into the column
// map that mapping/eru_record.cpp maps.
#include "mapping/eru.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <set>
#include <sstream>

#include "mapping/csv.hpp"
#include "mapping/encoding.hpp"
#include "mapping/eru_record.hpp"
#include "mapping/xml_check.hpp"
#include "mapping/xml_declaration.hpp"

namespace licgate::mapping {

using registry::ErrorCode;
using registry::Event;
using registry::makeError;
using registry::Result;

namespace {

constexpr std::string_view kEruNamespace = "http://www.gfr.cz/schema/oze/ele-trader";
constexpr std::string_view kExportRoot = "ele-traders";
constexpr std::string_view kRecordElement = "nazev_licence";
constexpr std::string_view kRecordContentType = "application/vnd.licgate.eru-licence+xml";
constexpr std::string_view kHolderProfile = "eru-holder";
constexpr std::string_view kEstablishmentProfile = "eru-establishment";

// The XML export's attributes by the CSV columns they match. The o_s_*
// attributes (a foreign holder's Czech branch) have no CSV column and are
// not mapped (docs/eru-mapping.md, rule "branches").
constexpr std::array<std::pair<std::string_view, std::string_view>, 19> kXmlToCsv{{
    {"cislo_licence", "cislo_licence"},
    {"version", "verze"},
    {"version_status", "status"},
    {"subjekt_IC", "ic"},
    {"subjekt_nazev", "nazev"},
    {"subjekt_cislo_dom", "cislo_dom"},
    {"subjekt_cislo_or", "cislo_or"},
    {"subjekt_ulice_nazev", "ulice"},
    {"subjekt_obec_cast", "obec_cast"},
    {"subjekt_obec_nazev", "obec"},
    {"subjekt_PSC", "psc"},
    {"subjekt_okres", "okres"},
    {"subjekt_kraj", "kraj"},
    {"subjekt_zeme", "zeme"},
    {"subjekt_den_opravneni", "den_opravneni"},
    {"subjekt_den_zahajeni", "den_zahajeni"},
    {"subjekt_den_zaniku", "den_zaniku"},
    {"subjekt_den_nabyti_pravni_moci", "den_nabyti"},
    {"odpovedny_zast", "osoba"},
}};

// Columns without which a row cannot be mapped at all.
const std::vector<std::string_view>& requiredColumns(std::string_view profile) {
  static const std::vector<std::string_view> kHolder = {
      "cislo_licence", "verze",        "status",     "ic",        "nazev", "cislo_dom",
      "cislo_or",      "ulice",        "obec",       "obec_cast", "psc",   "zeme",
      "den_opravneni", "den_zahajeni", "den_zaniku", "den_nabyti"};
  static const std::vector<std::string_view> kEstablishment = {
      "cislo_licence", "ev_cislo", "nazev", "psc", "obec", "ulice", "cp"};
  return profile == kHolderProfile ? kHolder : kEstablishment;
}

std::string_view localName(std::string_view name) {
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string namespaceOf(pugi::xml_node node) {
  std::string_view name = node.name();
  std::size_t colon = name.find(':');
  std::string attribute =
      colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  for (pugi::xml_node at = node; at && at.type() == pugi::node_element; at = at.parent()) {
    if (pugi::xml_attribute declared = at.attribute(attribute.c_str())) {
      return declared.value();
    }
  }
  return {};
}

Result<pugi::xml_node> loadRoot(pugi::xml_document& document, std::string_view utf8,
                                std::string_view what, std::string_view root_name) {
  pugi::xml_parse_result parsed =
      document.load_buffer(utf8.data(), utf8.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return makeError(ErrorCode::kMalformed, std::string(what) + " is malformed at byte offset " +
                                                std::to_string(parsed.offset) + ": " +
                                                parsed.description());
  }
  LICGATE_RETURN_IF_ERROR(checkWellFormed(utf8, what));
  pugi::xml_node root = document.document_element();
  if (localName(root.name()) != root_name || namespaceOf(root) != kEruNamespace) {
    return makeError(ErrorCode::kMalformed,
                     std::string(what) + ": root element is <" + root.name() + "> in namespace \"" +
                         namespaceOf(root) + "\", expected <" + std::string(root_name) +
                         "> in namespace " + std::string(kEruNamespace));
  }
  return root;
}

std::string recordKey(std::string_view number, std::string_view version) {
  std::string key(number);
  if (!version.empty()) {
    key += " v" + std::string(version);
  }
  return key;
}

// One nazev_licence as a document of its own, in the export's charset.
Result<SourceRecord> cutXmlRecord(pugi::xml_node element, std::string_view charset) {
  pugi::xml_document single;
  pugi::xml_node copy = single.append_copy(element);
  copy.set_name(std::string(kRecordElement).c_str());
  copy.remove_attribute("xmlns");
  copy.prepend_attribute("xmlns") = std::string(kEruNamespace).c_str();
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"" << charset << "\"?>";
  single.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);

  auto body = fromUtf8(out.str(), charset);
  if (!body) {
    return body.takeError();
  }
  return SourceRecord{
      std::move(*body), std::string(kRecordContentType),
      recordKey(element.attribute("cislo_licence").value(), element.attribute("version").value())};
}

registry::Status checkColumns(const std::vector<std::string>& header, std::string_view profile) {
  for (std::string_view column : requiredColumns(profile)) {
    if (std::find(header.begin(), header.end(), column) == header.end()) {
      return makeError(
          ErrorCode::kMalformed,
          "ERÚ " + std::string(profile) + " CSV: the header has no column " + std::string(column));
    }
  }
  return {};
}

Result<EruRow> rowFromCsv(std::string_view utf8_csv, std::string_view profile) {
  auto table = parseCsvTable(utf8_csv);
  if (!table) {
    return table.takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkColumns(table->header, profile));
  if (table->rows.size() != 1) {
    return makeError(ErrorCode::kMalformed, "ERÚ " + std::string(profile) +
                                                " CSV: expected a header and one row, found " +
                                                std::to_string(table->rows.size()) + " rows");
  }
  EruRow row;
  for (std::size_t i = 0; i < table->header.size(); ++i) {
    row[table->header[i]] = EruField{table->header[i], table->rows.front().fields[i]};
  }
  return row;
}

}  // namespace

Result<std::vector<SourceRecord>> splitEruXml(std::string_view bytes) {
  auto declaration = findXmlDeclaration(bytes);
  if (!declaration) {
    return declaration.takeError();
  }
  std::string charset =
      *declaration && (*declaration)->encoding ? *(*declaration)->encoding : std::string("UTF-8");
  auto utf8 = toUtf8(bytes, "", TextKind::kXml);
  if (!utf8) {
    return utf8.takeError();
  }
  pugi::xml_document document;
  auto root = loadRoot(document, *utf8, "ERÚ XML export", kExportRoot);
  if (!root) {
    return root.takeError();
  }

  std::vector<SourceRecord> records;
  for (pugi::xml_node element : root->children()) {
    if (element.type() != pugi::node_element) {
      continue;
    }
    if (localName(element.name()) != kRecordElement) {
      return makeError(ErrorCode::kMalformed, "ERÚ XML export: element <" +
                                                  std::string(element.name()) + "> after record " +
                                                  std::to_string(records.size()) + " is not <" +
                                                  std::string(kRecordElement) + ">");
    }
    auto record = cutXmlRecord(element, charset);
    if (!record) {
      return record.takeError();
    }
    records.push_back(std::move(*record));
  }
  return records;
}

Result<std::vector<SourceRecord>> splitEruCsv(std::string_view bytes, std::string_view profile) {
  if (profile != kHolderProfile && profile != kEstablishmentProfile) {
    return makeError(ErrorCode::kInvalidField, "ERÚ CSV profile \"" + std::string(profile) +
                                                   "\" is not eru-holder or eru-establishment");
  }
  auto utf8 = toUtf8(bytes, "utf-8", TextKind::kOther);
  if (!utf8) {
    return utf8.takeError();
  }
  auto table = parseCsvTable(*utf8);
  if (!table) {
    return table.takeError();
  }
  LICGATE_RETURN_IF_ERROR(checkColumns(table->header, profile));

  const auto column_of = [&](std::string_view name) {
    return std::find(table->header.begin(), table->header.end(), name) - table->header.begin();
  };
  const auto number_at = column_of("cislo_licence");
  const auto detail_at = column_of(profile == kHolderProfile ? "verze" : "ev_cislo");
  const std::string header = writeCsvRecord(table->header) + "\r\n";
  const std::string content_type = "text/csv; charset=utf-8; profile=" + std::string(profile);

  std::vector<SourceRecord> records;
  records.reserve(table->rows.size());
  for (const CsvRecord& row : table->rows) {
    const std::string& number = row.fields[number_at];
    const std::string& detail = row.fields[detail_at];
    std::string key = profile == kHolderProfile ? recordKey(number, detail) : number + "/" + detail;
    records.push_back({header + writeCsvRecord(row.fields) + "\r\n", content_type, key});
  }
  return records;
}

Result<Event> mapEruXmlRecord(std::string_view utf8_xml) {
  pugi::xml_document document;
  auto root = loadRoot(document, utf8_xml, "ERÚ licence record", kRecordElement);
  if (!root) {
    return root.takeError();
  }
  EruRow row;
  for (const auto& [attribute, column] : kXmlToCsv) {
    pugi::xml_attribute found = root->attribute(std::string(attribute).c_str());
    row[std::string(column)] = EruField{std::string(attribute), found.value()};
  }
  for (std::string_view required : {"cislo_licence", "version_status"}) {
    if (!root->attribute(std::string(required).c_str())) {
      return makeError(ErrorCode::kInvalidField,
                       "ERÚ licence record: attribute " + std::string(required) + " is missing");
    }
  }
  return mapEruHolderRow(row);
}

Result<Event> mapEruHolderCsv(std::string_view utf8_csv) {
  auto row = rowFromCsv(utf8_csv, kHolderProfile);
  if (!row) {
    return row.takeError();
  }
  return mapEruHolderRow(*row);
}

Result<Event> mapEruEstablishmentCsv(std::string_view utf8_csv) {
  auto row = rowFromCsv(utf8_csv, kEstablishmentProfile);
  if (!row) {
    return row.takeError();
  }
  return mapEruEstablishmentRow(*row);
}

Result<std::vector<ActivityType>> parseEruLicenceTypes(std::string_view utf8_csv) {
  auto table = parseCsvTable(utf8_csv);
  if (!table) {
    return table.takeError();
  }
  if (table->header != std::vector<std::string>{"kod", "predmet"}) {
    return makeError(ErrorCode::kMalformed, "ERÚ licence types: the header is not \"kod,predmet\"");
  }
  std::vector<ActivityType> types;
  std::set<std::string> seen;
  for (const CsvRecord& row : table->rows) {
    const std::string& code = row.fields[0];
    bool two_digits = code.size() == 2 && std::all_of(code.begin(), code.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    if (!two_digits) {
      return makeError(ErrorCode::kInvalidField, "ERÚ licence types, line " +
                                                     std::to_string(row.line) + ": kod \"" + code +
                                                     "\" is not 2 digits");
    }
    if (!seen.insert(code).second) {
      return makeError(ErrorCode::kInvalidField, "ERÚ licence types, line " +
                                                     std::to_string(row.line) + ": kod " + code +
                                                     " appears twice");
    }
    types.push_back({code, row.fields[1]});
  }
  return types;
}

}  // namespace licgate::mapping
