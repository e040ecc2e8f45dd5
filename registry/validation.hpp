// Field rules of licence events, checked before an event reaches the
// lifecycle.
//
// The mapping layer calls validateEvent to answer a sender precisely (which
// field, which value, which rule), and the store calls it again before it
// applies anything, so an event built by any other path is held to the same
// rules.
#pragma once

#include "registry/event.hpp"
#include "registry/result.hpp"

namespace licgate::registry {

// Checks the fields `event.type` needs (docs/store.md lists them) and the
// shape of every field that is set. Pure, never blocks.
//
// Returns kInvalidField naming the event type, the field and the rule, e.g.
// "issue: holder.id: IIN 900101300015: check digit is 5, expected 7"
// (field names as in the canonical JSON, registry/event_codec.hpp), or
// kTooLarge for a text over its limit. Fields an event type does not use are
// only checked for valid UTF-8 and size, except that issue and refuse must
// not name a licence (the register gives numbers) and annex-issue must not
// name an annex.
Status validateEvent(const Event& event);

// The holder rules alone: the id by its scheme's check, a country code in
// Latin letters. `require_name` is false for imports, where a source register
// may mask a natural person's name together with the id.
Status validateHolder(const Holder& holder, bool require_name);

}  // namespace licgate::registry
