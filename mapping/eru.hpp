// The Czech Energy Regulatory Office (ERÚ) licence register as a source of
// legacy imports. docs/eru-mapping.md records every decision about its dirty
// data (several versions of one licence, text in the IČ column, lapse dates
// in 2121, "UK" and "UK_eng" beside "GB", empty versions, masked holders).
//
// Splitting (a whole export into one record per message) and mapping (one
// record into an event) are separate so that a sender can split and licgate
// can map: the record travels in its source format and charset.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "registry/event.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

// The licensor code under which ERÚ licences are imported.
inline constexpr std::string_view kEruLicensor = "CZ-ERU";

// One record cut out of an export, ready to send as a message body.
struct SourceRecord {
  std::string body;          // bytes in the source's charset
  std::string content_type;  // see mapping/inbound_decoder.hpp
  std::string key;           // a stable name for logs: "310100016" or "310100016 v18"
};

// Splits the windows-1250 XML export (root ele-traders) into one XML
// document per <nazev_licence>, each re-encoded in the export's own charset
// and declaring it. kMalformed / kInvalidEncoding when the file is broken.
registry::Result<std::vector<SourceRecord>> splitEruXml(std::string_view bytes);

// Splits an ERÚ CSV (RFC 4180, UTF-8) into header + one row per record.
// `profile` is "eru-holder" or "eru-establishment".
registry::Result<std::vector<SourceRecord>> splitEruCsv(std::string_view bytes,
                                                        std::string_view profile);

// Maps one record (UTF-8) to a legacy import event (holders, XML) or an
// annex-import event (establishments). kInvalidField names the column and
// the value that cannot be mapped.
registry::Result<registry::Event> mapEruXmlRecord(std::string_view utf8_xml);
registry::Result<registry::Event> mapEruHolderCsv(std::string_view utf8_csv);
registry::Result<registry::Event> mapEruEstablishmentCsv(std::string_view utf8_csv);

// Activity codes from licence-types.csv ("kod,predmet"): code -> name.
struct ActivityType {
  std::string code;
  std::string name;
};
registry::Result<std::vector<ActivityType>> parseEruLicenceTypes(std::string_view utf8_csv);

}  // namespace licgate::mapping
