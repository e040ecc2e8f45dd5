// Message ids derived from content, so that sending the same record again
// carries the same id and the register recognises it as already applied.
#pragma once

#include <string>
#include <string_view>

namespace licgate::gateway {

// "sha256:<64 hex digits>" over the sending system, the content type and the
// body, each followed by a NUL byte so that moving bytes between the parts
// changes the id. Never fails.
std::string contentMessageId(std::string_view system, std::string_view content_type,
                             std::string_view body);

}  // namespace licgate::gateway
