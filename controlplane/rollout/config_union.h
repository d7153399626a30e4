// During a rollout proxies run two versions: the health checker must probe the endpoints of both,
// and the stats must name the routes of both. The union of two configs for those two readers
// (never sent to a proxy): the first config's clusters and routes, plus those only the second
// has, plus the second's endpoints that a shared cluster lacks; a shared cluster is checked with
// the second's settings when only the second checks it. Routes are matched by name (a route of
// the same name sending elsewhere in the second is counted under the first's cluster).
#pragma once

#include "hermes/v1/config.pb.h"

namespace hermes::controlplane {

// `second` may be null: then `first` as it is.
v1::Config ConfigUnion(const v1::Config& first, const v1::Config* second);

}  // namespace hermes::controlplane
