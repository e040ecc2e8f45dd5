#include "registry/event.hpp"

#include "registry/name_table.hpp"

namespace licgate::registry {

namespace {

constexpr NameTable<EventType, 13> kEventTypeNames{{
    {EventType::kIssue, "issue"},
    {EventType::kRefuse, "refuse"},
    {EventType::kReissue, "reissue"},
    {EventType::kSuspend, "suspend"},
    {EventType::kResume, "resume"},
    {EventType::kTerminate, "terminate"},
    {EventType::kDuplicate, "duplicate"},
    {EventType::kImport, "import"},
    {EventType::kAnnexIssue, "annex-issue"},
    {EventType::kAnnexSuspend, "annex-suspend"},
    {EventType::kAnnexResume, "annex-resume"},
    {EventType::kAnnexTerminate, "annex-terminate"},
    {EventType::kAnnexImport, "annex-import"},
}};

}  // namespace

std::string_view eventTypeName(EventType type) {
  return nameOf(kEventTypeNames, type);
}

Result<EventType> parseEventType(std::string_view text) {
  return parseName(kEventTypeNames, text, "event type");
}

}  // namespace licgate::registry
