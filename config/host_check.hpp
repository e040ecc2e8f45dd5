// Checks of hosts and URLs that more than one section of the configuration
// shares (defined in config/config.cpp), and the body simulator's
// configuration reader with them.
#pragma once

#include <string>
#include <string_view>

namespace licgate::config {

// What is wrong with the authority of a URL (its host and an optional
// port), or an empty text when nothing is: the host is an IPv4 address, a
// host name (RFC 1123) or an IPv6 address in brackets; the port 1..65535.
std::string hostAndPortProblem(std::string_view authority);

// What is wrong with an http:// or https:// URL licgate sends to (a space or
// control character, another scheme, credentials, a bad host or port), or
// an empty text when nothing is. `credentials_advice` follows "carries
// credentials" in the message.
std::string httpUrlProblem(std::string_view url, std::string_view credentials_advice);

}  // namespace licgate::config
