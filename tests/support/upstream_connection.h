// A connection a worker can close when its TestUpstream stops: an HTTP session or a WebSocket.
// Registers with its worker for its whole life; all calls happen on the worker's thread.
#pragma once

namespace hermes::test {

class UpstreamWorker;

class UpstreamConnection {
 public:
  explicit UpstreamConnection(UpstreamWorker& worker);
  virtual ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // Closes the socket; pending operations complete with operation_aborted.
  virtual void Close() = 0;

 protected:
  UpstreamWorker& worker_;
};

}  // namespace hermes::test
