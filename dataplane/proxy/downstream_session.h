// A client connection, served by one coroutine on one worker for its whole life: read a request
// head, route it, forward it over a pooled upstream connection, stream both bodies, repeat.
#pragma once

#include <string>

#include "dataplane/asio.h"

namespace hermes::dataplane {

class Worker;

Task<void> ServeConnection(Worker& worker, Socket socket, std::string listener);

}  // namespace hermes::dataplane
