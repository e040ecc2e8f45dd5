// The rules that turn one ERÚ record into a register event. Each rule for
// dirty data is a decision recorded in docs/eru-mapping.md; the comments
// here say which.
#include "mapping/eru_record.hpp"

#include <algorithm>
#include <array>

#include "registry/date.hpp"
#include "registry/identifiers.hpp"
#include "registry/numbering.hpp"

namespace licgate::mapping {

using registry::Date;
using registry::Error;
using registry::ErrorCode;
using registry::Event;
using registry::Holder;
using registry::HolderId;
using registry::LicenceStatus;
using registry::makeError;
using registry::Result;
using registry::Status;

namespace {

// Lapse dates from this year on stand for "no end": ERÚ writes an unlimited
// licence as 2099-12-31 or as its start plus about a century (2100-2121 in
// the data), and no limited licence in the data runs past 2047.
constexpr int kUnlimitedFromYear = 2099;

// ERÚ's stand-in IČ for holders that have none (foreign companies): it fails
// the check digit, so it can only mean "no Czech company number".
constexpr std::string_view kNoIcoPlaceholder = "99999999";

struct EruStatus {
  std::string_view source;
  LicenceStatus status;
  std::string_view reason;  // the grounds of a termination, in the register's words
};

constexpr std::array<EruStatus, 3> kStatuses{{
    {"Aktivní verze", LicenceStatus::kActive, ""},
    {"Zrušena", LicenceStatus::kTerminated, "revoked"},
    {"Zaniklá", LicenceStatus::kTerminated, "lapsed"},
}};

bool isSpaceAt(std::string_view text, std::size_t at, std::size_t& width) {
  char c = text[at];
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
    width = 1;
    return true;
  }
  if (text.substr(at, 2) == "\xC2\xA0") {  // no-break space, U+00A0
    width = 2;
    return true;
  }
  return false;
}

// The regulator's export escapes "&" and quotes once more than XML or CSV
// needs ("P &amp; K HYDRO s.r.o." after parsing); one level is undone.
std::string unescapeOnce(std::string_view text) {
  constexpr std::array<std::pair<std::string_view, char>, 5> kEntities{
      {{"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&lt;", '<'}, {"&gt;", '>'}}};
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    auto entity = std::find_if(kEntities.begin(), kEntities.end(), [&](const auto& candidate) {
      return text.substr(at, candidate.first.size()) == candidate.first;
    });
    if (entity != kEntities.end()) {
      out += entity->second;
      at += entity->first.size();
      continue;
    }
    out += text[at++];
  }
  return out;
}

// A value made only of dashes is the regulator's mask for a natural person.
bool isMasked(std::string_view value) {
  return value.size() >= 3 && value.find_first_not_of('-') == std::string_view::npos;
}

// Unescaped, white space (no-break spaces too) collapsed and trimmed, masks
// emptied: the same name written with different spacing in the XML and the
// CSV must not look like a change of holder.
std::string cleanText(std::string_view raw) {
  if (isMasked(raw)) {
    return {};
  }
  std::string text = unescapeOnce(raw);
  std::string out;
  bool pending_space = false;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t width = 0;
    if (isSpaceAt(text, at, width)) {
      pending_space = !out.empty();
      at += width;
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += text[at++];
  }
  return out;
}

std::string rawValue(const EruRow& row, std::string_view column) {
  auto found = row.find(column);
  return found == row.end() ? std::string() : found->second.value;
}

std::string value(const EruRow& row, std::string_view column) {
  return cleanText(rawValue(row, column));
}

std::string sourceColumn(const EruRow& row, std::string_view column) {
  auto found = row.find(column);
  return found == row.end() ? std::string(column) : found->second.column;
}

Error fieldError(const EruRow& row, std::string_view column, std::string_view subject,
                 std::string_view why) {
  return makeError(ErrorCode::kInvalidField, sourceColumn(row, column) + " of " +
                                                 std::string(subject) + ": " + std::string(why));
}

bool allDigits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// "67128" and "671 28" are one postcode; the register writes "671 28".
std::string formatPostcode(std::string_view postcode) {
  std::string digits;
  for (char c : postcode) {
    if (c != ' ') {
      digits += c;
    }
  }
  if (digits.size() == 5 && allDigits(digits)) {
    return digits.substr(0, 3) + " " + digits.substr(3);
  }
  return std::string(postcode);
}

void appendPart(std::string& out, std::string_view part, std::string_view separator) {
  if (part.empty()) {
    return;
  }
  if (!out.empty()) {
    out += separator;
  }
  out += part;
}

struct AddressParts {
  std::string street;       // ulice
  std::string house;        // číslo popisné (cislo_dom, cp)
  std::string orientation;  // číslo orientační (cislo_or)
  std::string district;     // část obce
  std::string town;         // obec
  std::string postcode;     // PSČ
};

// Czech postal order: "street house/orientation, district, postcode town".
// A village without streets is addressed by its own (or its district's)
// name and the house number.
std::string composeAddress(const AddressParts& parts) {
  std::string street = !parts.street.empty()     ? parts.street
                       : !parts.district.empty() ? parts.district
                                                 : parts.town;
  std::string house = parts.house;
  appendPart(house, parts.orientation, "/");
  std::string first = street;
  appendPart(first, house, " ");
  std::string town = formatPostcode(parts.postcode);
  appendPart(town, parts.town, " ");

  std::string address = first;
  if (parts.district != parts.town && parts.district != street) {
    appendPart(address, parts.district, ", ");
  }
  appendPart(address, town, ", ");
  return address;
}

Result<std::string> readLicenceNumber(const EruRow& row) {
  std::string number = value(row, "cislo_licence");
  if (number.size() != 9 || !allDigits(number)) {
    return makeError(ErrorCode::kInvalidField, sourceColumn(row, "cislo_licence") + ": \"" +
                                                   number +
                                                   "\" is not a 9-digit ERÚ licence number");
  }
  const auto& types = eruActivityTypes();
  bool known = std::any_of(types.begin(), types.end(), [&](const ActivityType& type) {
    return type.code == number.substr(0, 2);
  });
  if (!known) {
    return fieldError(
        row, "cislo_licence", "licence " + number,
        "activity code " + number.substr(0, 2) + " is not an ERÚ licence type (licence-types.csv)");
  }
  return number;
}

// Rule "IČ": empty or the placeholder is no id; fewer than 8 digits are the
// IČ without its leading zeros; anything else must pass the check digit.
// Text in the column is rejected: the holder is a named legal person, and
// importing it without an id would hide it from holder search as if it were
// a masked natural person.
Result<std::optional<HolderId>> mapIco(const EruRow& row, std::string_view subject) {
  std::string ico = value(row, "ic");
  if (ico.empty() || ico == kNoIcoPlaceholder) {
    return std::optional<HolderId>{};
  }
  if (!allDigits(ico)) {
    return fieldError(row, "ic", subject,
                      "\"" + ico +
                          "\" is text, not an IČ; a named holder is not imported "
                          "without a valid IČ");
  }
  if (ico.size() < 8) {
    ico.insert(0, 8 - ico.size(), '0');
  }
  registry::Status checked = registry::checkIco(ico);
  if (!checked.ok()) {
    return fieldError(row, "ic", subject, checked.error().message);
  }
  return std::optional<HolderId>{HolderId{registry::IdScheme::kCzIco, ico}};
}

// Rule "country": UK and UK_eng are the United Kingdom, GB in ISO 3166-1.
Result<std::string> mapCountry(const EruRow& row, std::string_view subject) {
  std::string country = value(row, "zeme");
  if (country == "UK" || country == "UK_eng") {
    return std::string("GB");
  }
  if (country.empty()) {
    return country;
  }
  registry::Status checked = registry::checkCountryCode(country);
  if (!checked.ok()) {
    return fieldError(row, "zeme", subject, checked.error().message);
  }
  return country;
}

// Rule "masked holders": the regulator masks natural persons with dashes in
// the XML and with empty fields in the CSV; both become a holder with
// nothing in it, and nothing else of the record's holder is kept.
Result<Holder> mapHolder(const EruRow& row, std::string_view subject) {
  std::string ico = rawValue(row, "ic");
  std::string name = rawValue(row, "nazev");
  Holder holder;
  if (isMasked(ico) || isMasked(name) || (value(row, "ic").empty() && cleanText(name).empty())) {
    return holder;
  }
  auto id = mapIco(row, subject);
  if (!id) {
    return id.takeError();
  }
  auto country = mapCountry(row, subject);
  if (!country) {
    return country.takeError();
  }
  holder.id = *id;
  holder.name = cleanText(name);
  holder.address =
      composeAddress({value(row, "ulice"), value(row, "cislo_dom"), value(row, "cislo_or"),
                      value(row, "obec_cast"), value(row, "obec"), value(row, "psc")});
  holder.country = *country;
  return holder;
}

Result<std::optional<Date>> readDate(const EruRow& row, std::string_view column,
                                     std::string_view subject) {
  std::string text = value(row, column);
  if (text.empty()) {
    return std::optional<Date>{};
  }
  auto date =
      registry::parseIsoDate(text, sourceColumn(row, column) + " of " + std::string(subject));
  if (!date) {
    return date.takeError();
  }
  return std::optional<Date>{*date};
}

// Rule "dates": valid from den_opravneni (or den_zahajeni when empty), until
// den_zaniku (none from 2099 on), the act dated den_nabyti (the day the
// source's current version took legal effect; valid-from when empty).
Status mapDates(const EruRow& row, std::string_view subject, Event& event) {
  auto entitled = readDate(row, "den_opravneni", subject);
  auto started = readDate(row, "den_zahajeni", subject);
  auto ends = readDate(row, "den_zaniku", subject);
  auto effective = readDate(row, "den_nabyti", subject);
  for (const auto* date : {&entitled, &started, &ends, &effective}) {
    if (!date->ok()) {
      return date->error();
    }
  }
  std::optional<Date> from = entitled->has_value() ? *entitled : *started;
  if (!from) {
    return fieldError(row, "den_opravneni", subject,
                      "missing, and " + sourceColumn(row, "den_zahajeni") + " is missing too");
  }
  std::optional<Date> until = *ends;
  if (until && static_cast<int>(until->year()) >= kUnlimitedFromYear) {
    until.reset();
  }
  if (until && *until < *from) {
    return fieldError(row, entitled->has_value() ? "den_opravneni" : "den_zahajeni", subject,
                      registry::formatIsoDate(*from) + " is after " +
                          sourceColumn(row, "den_zaniku") + " " + registry::formatIsoDate(*until));
  }
  event.valid_from = from;
  event.valid_until = until;
  event.occurred_on = effective->value_or(*from);
  return {};
}

Status mapStatus(const EruRow& row, std::string_view subject, Event& event) {
  std::string status = value(row, "status");
  for (const EruStatus& known : kStatuses) {
    if (known.source == status) {
      event.imported_status = known.status;
      event.reason = std::string(known.reason);
      return {};
    }
  }
  return fieldError(row, "status", subject,
                    "\"" + status + "\" is not one of Aktivní verze, Zrušena, Zaniklá");
}

}  // namespace

const std::vector<ActivityType>& eruActivityTypes() {
  static const std::vector<ActivityType> kTypes = {
      {"11", "výroba elektřiny"},
      {"12", "distribuce elektřiny"},
      {"13", "přenos elektřiny"},
      {"14", "obchod s elektřinou"},
      {"15", "činnosti operátora trhu"},
      {"21", "výroba plynu"},
      {"22", "distribuce plynu"},
      {"23", "přeprava plynu"},
      {"24", "obchod s plynem"},
      {"25", "uskladňování plynu"},
      {"31", "výroba tepelné energie"},
      {"32", "rozvod tepelné energie"},
      {"54", "uznání pro obchod s elektřinou"},
      {"64", "uznání pro obchod s plynem"},
  };
  return kTypes;
}

Result<Event> mapEruHolderRow(const EruRow& row) {
  auto number = readLicenceNumber(row);
  if (!number) {
    return number.takeError();
  }
  std::string subject = "licence " + *number;

  Event event;
  event.type = registry::EventType::kImport;
  event.licensor = std::string(kEruLicensor);
  event.licence_number = *number;
  event.number_kind = registry::NumberKind::kLegacy;
  event.activity_code = number->substr(0, 2);
  LICGATE_RETURN_IF_ERROR(mapStatus(row, subject, event));
  auto holder = mapHolder(row, subject);
  if (!holder) {
    return holder.takeError();
  }
  event.holder = std::move(*holder);
  LICGATE_RETURN_IF_ERROR(mapDates(row, subject, event));

  // Rule "empty versions": the original decision carries no label (its
  // den_nabyti equals den_opravneni in 99 % of such rows); amendments count
  // from 1, so the original is version 0 and orders before them.
  std::string version = value(row, "verze");
  event.source_version = version.empty() ? "0" : version;
  return event;
}

Result<Event> mapEruEstablishmentRow(const EruRow& row) {
  auto number = readLicenceNumber(row);
  if (!number) {
    return number.takeError();
  }
  std::string ordinal = value(row, "ev_cislo");
  int parsed = allDigits(ordinal) && ordinal.size() <= 3 ? std::stoi(ordinal) : 0;
  if (parsed < 1) {
    return fieldError(row, "ev_cislo", "licence " + *number,
                      "\"" + ordinal + "\" is not an establishment number from 1 to 999");
  }

  // Rule "establishment dates and status": the file has neither, so the
  // annex is active and dated the day licgate maps it.
  Event event;
  event.type = registry::EventType::kAnnexImport;
  event.licensor = std::string(kEruLicensor);
  event.occurred_on = registry::todayUtc();
  event.licence_number = *number;
  event.annex_number = registry::formatAnnexNumber(static_cast<std::uint32_t>(parsed));
  event.annex_name = value(row, "nazev");
  event.annex_address = composeAddress(
      {value(row, "ulice"), value(row, "cp"), "", "", value(row, "obec"), value(row, "psc")});
  event.annex_status = LicenceStatus::kActive;
  return event;
}

}  // namespace licgate::mapping
