// The reading of the configuration's `conformity` section (the interested
// bodies, the activities that need them, the working-day calendar), which
// parseConfig calls. Internal to config/.
#pragma once

#include <string>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace licgate::config {

// Reads `node` (the section, possibly absent) into `out`, reporting every
// problem to `reader`. A relative calendar path is resolved against
// `base_dir`, and the calendar file is loaded and checked here.
void readConformity(Reader& reader, const YAML::Node& node, const std::string& base_dir,
                    ConformityConfig& out);

}  // namespace licgate::config
