// Checks of hosts in URLs that more than one section of the configuration
// shares (defined in config/config.cpp). Internal to config/.
#pragma once

#include <string>
#include <string_view>

namespace licgate::config {

// What is wrong with the authority of a URL (its host and an optional
// port), or an empty text when nothing is: the host is an IPv4 address, a
// host name (RFC 1123) or an IPv6 address in brackets; the port 1..65535.
std::string hostAndPortProblem(std::string_view authority);

}  // namespace licgate::config
