// Content-derived message ids with OpenSSL's SHA-256 (gateway/message_id.hpp).
#include "gateway/message_id.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>

namespace licgate::gateway {

std::string contentMessageId(std::string_view system, std::string_view content_type,
                             std::string_view body) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  const char separator = '\0';
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  for (std::string_view part : {system, content_type, body}) {
    EVP_DigestUpdate(context.get(), part.data(), part.size());
    EVP_DigestUpdate(context.get(), &separator, 1);
  }
  EVP_DigestFinal_ex(context.get(), digest.data(), &size);

  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "sha256:";
  for (unsigned int i = 0; i < size; ++i) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 0x0f];
  }
  return id;
}

}  // namespace licgate::gateway
