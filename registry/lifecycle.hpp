// The lifecycle of licences and annexes (one table each).
//
//             issue                 suspend
//   (none) ---------> active  <-----------------> suspended
//                       |          resume             |
//                       | terminate                   | terminate
//                       v                             v
//                    terminated  <--------------------+
//
// reissue: active only, adds a revision. duplicate: active or suspended, no
// state change. refuse: creates no licence. import: any state, from none or
// from an earlier import (an update when the content differs). Terminating a
// licence terminates its annexes. Annex events need the licence active or
// suspended (an annex of a terminated licence is rejected).
#pragma once

#include <optional>

#include "registry/event.hpp"
#include "registry/model.hpp"

namespace licgate::registry {

// Applies `event` to `current` (empty when the register has no such licence)
// and returns the licence as it is after the event. Pure: no I/O, no
// numbering. For issue and annex-issue the caller has already put the given
// number into `event` (licence_number / annex_number).
//
// A refusal is about an application, not a licence: the store records it in
// the journal without calling applyEvent, which returns kInternal for it.
//
// Errors: kUnknownLicence (event for a licence that is not there),
// kUnknownAnnex, kIllegalTransition (naming the event and the state, e.g.
// "resume: licence 21000001 is active, not suspended"; also an import that
// would bring a terminated licence or annex back), kConflict (issue or
// annex-issue of a number that exists; an event for a licence of another
// licensor; an import of another number kind, or carrying a numeric source
// version lower than the one held), kInternal (refuse, or issue without the
// given number).
Result<Licence> applyEvent(const std::optional<Licence>& current, const Event& event);

// True for the annex-* events, which change one annex of a licence.
bool isAnnexEvent(EventType type);

// True when importing `event` onto `current` would change nothing: the
// register then records no event and the import counts as already applied.
// Covers import (the licence's content) and annex-import (the annex's).
bool importChangesNothing(const Licence& current, const Event& event);

}  // namespace licgate::registry
