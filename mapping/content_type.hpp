// Parameters of MIME content types (RFC 2045 section 5.1): the transport's
// charset and the profile that names which CSV layout a body carries.
#pragma once

#include <string>
#include <string_view>

namespace licgate::mapping {

// The value of parameter `name` (compared case-insensitively) of a content
// type, without quotes, as written; empty when absent.
// "text/csv; profile=eru-holder" with "profile" gives "eru-holder".
std::string contentTypeParameter(std::string_view content_type, std::string_view name);

}  // namespace licgate::mapping
