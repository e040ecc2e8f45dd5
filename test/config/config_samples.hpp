// The smallest valid configuration, which the configuration tests extend
// with the sections they are about.
#pragma once

#include <string>

namespace licgate::config::samples {

inline const std::string kMinimal = R"(
store:
  path: /tmp/register.db
licensors:
  - code: CZ-ERU
    name: ERU
systems:
  - id: eru-export
    name: ERU export
    licensors: [CZ-ERU]
)";

}  // namespace licgate::config::samples
