// Tests of content-derived message ids.
#include "gateway/message_id.hpp"

#include <gtest/gtest.h>

namespace licgate::gateway {
namespace {

TEST(ContentMessageId, IsSha256OfSystemContentTypeAndBody) {
  auto id = contentMessageId("eru-export", "application/xml", "<a/>");

  EXPECT_EQ(id, "sha256:272ca7453ff4ef0fb6fbcee0b8f3f6c5a8461b251d36cd7045ce8de924ce33a4");
}

TEST(ContentMessageId, ChangesWhenBytesMoveBetweenParts) {
  auto one = contentMessageId("ab", "c", "body");
  auto other = contentMessageId("a", "bc", "body");

  EXPECT_NE(one, other);
}

TEST(ContentMessageId, DiffersBetweenSystems) {
  EXPECT_NE(contentMessageId("eru-export", "application/xml", "<a/>"),
            contentMessageId("portal", "application/xml", "<a/>"));
}

}  // namespace
}  // namespace licgate::gateway
