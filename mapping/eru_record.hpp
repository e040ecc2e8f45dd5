// One ERÚ record, whichever file it came from, as the mapping sees it: the
// XML export's attributes are renamed to the CSV's column names so that one
// set of rules (docs/eru-mapping.md) maps both, and the same licence read
// from either file becomes the same event.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/eru.hpp"
#include "registry/event.hpp"
#include "registry/result.hpp"

namespace licgate::mapping {

struct EruField {
  std::string column;  // as the source names it, for messages ("subjekt_IC" or "ic")
  std::string value;   // UTF-8, as given
};

// Keyed by the CSV column name ("ic", "den_zaniku", ...). A column the
// source lacks is absent and reads as empty.
using EruRow = std::map<std::string, EruField, std::less<>>;

// A holders record (CSV row or XML nazev_licence) to a legacy import event.
// kInvalidField names the column, the licence and the rule.
registry::Result<registry::Event> mapEruHolderRow(const EruRow& row);

// An establishments row to an annex-import event.
registry::Result<registry::Event> mapEruEstablishmentRow(const EruRow& row);

// The 14 licence types of ERÚ's licence-types.csv, compiled in because the
// mapping reads no files; a test checks them against the file.
const std::vector<ActivityType>& eruActivityTypes();

}  // namespace licgate::mapping
