// Field rules of licence events: which fields each event type needs and the
// shape of each value, before the lifecycle decides whether the event may
// happen at all.
#include "registry/validation.hpp"

#include <string>
#include <utility>

#include "registry/date.hpp"
#include "registry/identifiers.hpp"
#include "registry/numbering.hpp"
#include "registry/text.hpp"

namespace licgate::registry {

namespace {

// Limits keep one record's text to what a register entry can hold; longer
// values are almost always a mis-mapped field (a whole document in a name).
constexpr std::size_t kMaxCodeBytes = 64;
constexpr std::size_t kMaxTextBytes = 1000;
constexpr std::size_t kMaxReasonBytes = 4000;

// Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on
// "literal" + std::string&&.
std::string quoted(std::string_view value) {
  std::string out(1, '"');
  out += quoteForMessage(value);
  out += '"';
  return out;
}

std::string prefix(const Event& event, std::string_view field) {
  return std::string(eventTypeName(event.type)) + ": " + std::string(field);
}

Error fieldError(const Event& event, std::string_view field, std::string_view why) {
  return makeError(ErrorCode::kInvalidField, prefix(event, field) + " " + std::string(why));
}

// Re-labels an error of a shared check with the event type and field.
Status inField(const Event& event, std::string_view field, Status status) {
  if (status.ok()) {
    return status;
  }
  Error error = status.takeError();
  error.message = prefix(event, field) + ": " + error.message;
  return error;
}

// "issue: activityCode", or only the field when the caller is not checking
// an event (an empty `type`).
std::string label(std::string_view type, std::string_view field) {
  std::string out(type);
  if (!out.empty()) {
    out += ": ";
  }
  out += field;
  return out;
}

// The label is built only when the value fails: every event is validated on
// the intake path, with a dozen text fields, and almost all of them pass.
Status checkText(std::string_view type, std::string_view field, std::string_view value,
                 bool required, std::size_t max_bytes) {
  if (value.empty()) {
    return required ? makeError(ErrorCode::kInvalidField, label(type, field) + " is missing")
                    : Status{};
  }
  if (value.size() > max_bytes) {
    return makeError(ErrorCode::kInvalidField,
                     label(type, field) + " has " + std::to_string(value.size()) +
                         " bytes, more than " + std::to_string(max_bytes));
  }
  if (!isValidUtf8(value)) {
    return makeError(ErrorCode::kInvalidField,
                     label(type, field) + " \"" + quoteForMessage(value) + "\" is not valid UTF-8");
  }
  // XML 1.0 section 2.2 has no place for the C0 controls but tab, line feed
  // and carriage return: a register text holding one could not be written
  // into any XML answer, and would break every reader of the change feed.
  for (std::size_t at = 0; at < value.size(); ++at) {
    auto byte = static_cast<unsigned char>(value[at]);
    if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') {
      return makeError(ErrorCode::kInvalidField,
                       label(type, field) + " has the control character U+00" +
                           std::string(1, "0123456789ABCDEF"[byte >> 4]) +
                           std::string(1, "0123456789ABCDEF"[byte & 0xF]) + " at byte " +
                           std::to_string(at) + ", which XML cannot carry");
    }
  }
  if (auto at = findXmlNoncharacter(value)) {
    return makeError(ErrorCode::kInvalidField, label(type, field) + " has the character U+FFF" +
                                                   (value[*at + 2] == '\xBE' ? "E" : "F") +
                                                   " at byte " + std::to_string(*at) +
                                                   ", which XML cannot carry");
  }
  return {};
}

Status checkText(const Event& event, std::string_view field, std::string_view value, bool required,
                 std::size_t max_bytes) {
  return checkText(eventTypeName(event.type), field, value, required, max_bytes);
}

Status checkDate(const Event& event, std::string_view field, const std::optional<Date>& date) {
  if (date && !date->ok()) {
    return fieldError(event, field, "is not a day of the calendar");
  }
  return {};
}

// Every text field that is set is checked, used by this event type or not:
// the journal keeps the whole event, so all of it must be valid UTF-8.
Status checkAllText(const Event& event) {
  const std::pair<std::string_view, const std::string*> codes[] = {
      {"licenceNumber", &event.licence_number}, {"goodsList", &event.goods_list},
      {"sealCode", &event.seal_code},           {"activityCode", &event.activity_code},
      {"sourceVersion", &event.source_version}, {"applicationRef", &event.application_ref},
      {"annexNumber", &event.annex_number},
  };
  for (const auto& [field, value] : codes) {
    LICGATE_RETURN_IF_ERROR(checkText(event, field, *value, false, kMaxCodeBytes));
  }
  const std::pair<std::string_view, const std::string*> texts[] = {
      {"annexName", &event.annex_name},
      {"annexAddress", &event.annex_address},
  };
  for (const auto& [field, value] : texts) {
    LICGATE_RETURN_IF_ERROR(checkText(event, field, *value, false, kMaxTextBytes));
  }
  return checkText(event, "reason", event.reason, false, kMaxReasonBytes);
}

Status checkCommon(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkText(event, "licensor", event.licensor, true, kMaxCodeBytes));
  LICGATE_RETURN_IF_ERROR(checkAllText(event));
  if (!event.occurred_on.ok()) {
    return fieldError(event, "occurredOn", "is missing or not a day of the calendar");
  }
  LICGATE_RETURN_IF_ERROR(checkDate(event, "validFrom", event.valid_from));
  LICGATE_RETURN_IF_ERROR(checkDate(event, "validUntil", event.valid_until));
  return checkDate(event, "suspendedUntil", event.suspended_until);
}

// Any number the register holds (activity, export/import or legacy) fits the
// legacy shape, so that is the check for events that name a licence.
Status checkNamedLicence(const Event& event) {
  if (event.licence_number.empty()) {
    return fieldError(event, "licenceNumber", "is missing");
  }
  if (!checkLegacyNumber(event.licence_number).ok()) {
    return fieldError(event, "licenceNumber",
                      quoted(event.licence_number) +
                          " is not a licence number (1 to 32 printable ASCII characters)");
  }
  return {};
}

Status checkNoLicenceNumber(const Event& event) {
  if (!event.licence_number.empty()) {
    return fieldError(
        event, "licenceNumber",
        quoted(event.licence_number) + " must be empty: the register gives the number");
  }
  return {};
}

// valid_from defaults to the date of the act, so the order is checked
// against that default too.
Status checkValidityOrder(const Event& event) {
  Date from = event.valid_from.value_or(event.occurred_on);
  if (event.valid_until && *event.valid_until < from) {
    return fieldError(
        event, "validUntil",
        formatIsoDate(*event.valid_until) + " is before validFrom " + formatIsoDate(from));
  }
  return {};
}

Status checkHolderOf(const Event& event, bool require_name) {
  if (!event.holder) {
    return fieldError(event, "holder", "is missing");
  }
  Status holder = validateHolder(*event.holder, require_name);
  if (!holder.ok()) {
    Error error = holder.takeError();
    error.message = std::string(eventTypeName(event.type)) + ": " + error.message;
    return error;
  }
  return {};
}

Status checkContent(const Event& event, bool require_name) {
  LICGATE_RETURN_IF_ERROR(checkHolderOf(event, require_name));
  LICGATE_RETURN_IF_ERROR(
      checkText(event, "activityCode", event.activity_code, true, kMaxCodeBytes));
  return checkValidityOrder(event);
}

Status checkIssue(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkNoLicenceNumber(event));
  switch (event.number_kind) {
    case NumberKind::kActivity:
      break;
    case NumberKind::kExportImport:
      LICGATE_RETURN_IF_ERROR(inField(event, "goodsList", checkGoodsList(event.goods_list)));
      LICGATE_RETURN_IF_ERROR(inField(event, "sealCode", checkSealCode(event.seal_code)));
      break;
    case NumberKind::kLegacy:
      return fieldError(event, "numberKind",
                        "legacy is not given by the register; legacy licences arrive by import");
  }
  return checkContent(event, true);
}

Status checkRefuse(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkNoLicenceNumber(event));
  LICGATE_RETURN_IF_ERROR(
      checkText(event, "applicationRef", event.application_ref, true, kMaxCodeBytes));
  return checkText(event, "reason", event.reason, true, kMaxReasonBytes);
}

Status checkReissue(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkNamedLicence(event));
  LICGATE_RETURN_IF_ERROR(checkHolderOf(event, true));
  return checkText(event, "activityCode", event.activity_code, false, kMaxCodeBytes);
}

// Suspension and termination record their grounds (register content).
Status checkWithGrounds(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkNamedLicence(event));
  LICGATE_RETURN_IF_ERROR(checkText(event, "reason", event.reason, true, kMaxReasonBytes));
  if (event.suspended_until && *event.suspended_until < event.occurred_on) {
    return fieldError(event, "suspendedUntil",
                      formatIsoDate(*event.suspended_until) + " is before occurredOn " +
                          formatIsoDate(event.occurred_on));
  }
  return {};
}

Status checkImportedNumber(const Event& event) {
  switch (event.number_kind) {
    case NumberKind::kActivity:
      return inField(event, "licenceNumber", checkActivityNumber(event.licence_number));
    case NumberKind::kExportImport:
      return inField(event, "licenceNumber", checkExportImportNumber(event.licence_number));
    case NumberKind::kLegacy:
      return inField(event, "licenceNumber", checkLegacyNumber(event.licence_number));
  }
  return fieldError(event, "numberKind", "is not a number kind");
}

Status checkImport(const Event& event) {
  if (event.licence_number.empty()) {
    return fieldError(event, "licenceNumber", "is missing");
  }
  LICGATE_RETURN_IF_ERROR(checkImportedNumber(event));
  if (!event.imported_status) {
    return fieldError(event, "importedStatus", "is missing");
  }
  LICGATE_RETURN_IF_ERROR(
      checkText(event, "sourceVersion", event.source_version, false, kMaxCodeBytes));
  return checkContent(event, false);
}

Status checkAnnexText(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkText(event, "annexName", event.annex_name, true, kMaxTextBytes));
  return checkText(event, "annexAddress", event.annex_address, false, kMaxTextBytes);
}

Status checkAnnexIssue(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkNamedLicence(event));
  if (!event.annex_number.empty()) {
    return fieldError(event, "annexNumber",
                      quoted(event.annex_number) + " must be empty: the register gives the number");
  }
  return checkAnnexText(event);
}

Status checkNamedAnnex(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkNamedLicence(event));
  if (event.annex_number.empty()) {
    return fieldError(event, "annexNumber", "is missing");
  }
  return inField(event, "annexNumber", checkAnnexNumber(event.annex_number));
}

Status checkAnnexWithGrounds(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkWithGrounds(event));
  return checkNamedAnnex(event);
}

Status checkAnnexImport(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkNamedAnnex(event));
  if (!event.annex_status) {
    return fieldError(event, "annexStatus", "is missing");
  }
  return checkAnnexText(event);
}

}  // namespace

Status validateHolder(const Holder& holder, bool require_name) {
  if (holder.id) {
    Status id = checkHolderId(*holder.id);
    if (!id.ok()) {
      return makeError(ErrorCode::kInvalidField, "holder.id: " + id.error().message);
    }
  }
  bool masked = !holder.id && !require_name;
  LICGATE_RETURN_IF_ERROR(checkText("", "holder.name", holder.name, !masked, kMaxTextBytes));
  LICGATE_RETURN_IF_ERROR(checkText("", "holder.address", holder.address, false, kMaxTextBytes));
  LICGATE_RETURN_IF_ERROR(
      checkText("", "holder.legalForm", holder.legal_form, false, kMaxTextBytes));
  if (!holder.country.empty()) {
    Status country = checkCountryCode(holder.country);
    if (!country.ok()) {
      return makeError(ErrorCode::kInvalidField, "holder.country: " + country.error().message);
    }
  }
  return {};
}

Status validateEvent(const Event& event) {
  LICGATE_RETURN_IF_ERROR(checkCommon(event));
  switch (event.type) {
    case EventType::kIssue:
      return checkIssue(event);
    case EventType::kRefuse:
      return checkRefuse(event);
    case EventType::kReissue:
      return checkReissue(event);
    case EventType::kSuspend:
    case EventType::kTerminate:
      return checkWithGrounds(event);
    case EventType::kResume:
    case EventType::kDuplicate:
      return checkNamedLicence(event);
    case EventType::kImport:
      return checkImport(event);
    case EventType::kAnnexIssue:
      return checkAnnexIssue(event);
    case EventType::kAnnexSuspend:
    case EventType::kAnnexTerminate:
      return checkAnnexWithGrounds(event);
    case EventType::kAnnexResume:
      return checkNamedAnnex(event);
    case EventType::kAnnexImport:
      return checkAnnexImport(event);
  }
  return makeError(ErrorCode::kInvalidField,
                   "event type " + std::to_string(static_cast<int>(event.type)) + " is unknown");
}

}  // namespace licgate::registry
