// Can one thread health-check a fleet? Runs hermes::health::HealthChecker against N targets
// (default 10,000), each a distinct loopback address 127.1.x.y, on an interval, and reports
// probes/s, CPU per probe, memory per target, lateness and whether every target was probed every
// interval. The health endpoints are served by a forked child on another CPU (one listener on
// 0.0.0.0, which Linux reaches through every address of 127.0.0.0/8), which also records, per
// address, when each request came: that is what "probed every interval" is judged on, not the
// checker's own count.
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hermes/common/health_checker.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Flags {
  int targets = 10000;
  int interval_ms = 1000;
  int duration_s = 20;
  int warmup_s = 2;
  int timeout_ms = 1000;
  int initial_jitter_ms = -1;  // -1: the interval (first probes spread over one interval)
  size_t max_in_flight = 1024;
  int server_cpu = -1;  // -1: the first CPU this process may not run on, else none
  bool tcp = false;
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: bench_healthcheck [--targets N] [--interval-ms MS] [--duration-s S] [--warmup-s S]\n"
      "         [--timeout-ms MS] [--initial-jitter-ms MS] [--max-in-flight N]\n"
      "         [--server-cpu CPU] [--kind http|tcp]\n");
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string_view name = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    std::string_view value = argv[++i];
    if (name == "--kind") {
      if (value != "http" && value != "tcp") return std::nullopt;
      f.tcp = value == "tcp";
      continue;
    }
    long long n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || n < -1) return std::nullopt;
    if (name == "--targets")
      f.targets = static_cast<int>(n);
    else if (name == "--interval-ms")
      f.interval_ms = static_cast<int>(n);
    else if (name == "--duration-s")
      f.duration_s = static_cast<int>(n);
    else if (name == "--warmup-s")
      f.warmup_s = static_cast<int>(n);
    else if (name == "--timeout-ms")
      f.timeout_ms = static_cast<int>(n);
    else if (name == "--initial-jitter-ms")
      f.initial_jitter_ms = static_cast<int>(n);
    else if (name == "--max-in-flight")
      f.max_in_flight = static_cast<size_t>(n);
    else if (name == "--server-cpu")
      f.server_cpu = static_cast<int>(n);
    else
      return std::nullopt;
  }
  if (f.targets < 1 || f.targets > 65000 || f.interval_ms < 1 || f.timeout_ms < 1 ||
      f.duration_s <= f.warmup_s || f.warmup_s < 0 || f.max_in_flight < 1)
    return std::nullopt;
  if (f.initial_jitter_ms < 0) f.initial_jitter_ms = f.interval_ms;
  return f;
}

// Target i listens (as far as the checker knows) on 127.1.0.1 + i.
constexpr uint32_t kFirstAddress = (127u << 24) | (1u << 16) | 1u;

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

// Shared between the checker (parent) and the server (child): per target, what the server saw.
struct Hits {
  std::atomic<int64_t> last_ns{0};
  std::atomic<uint32_t> in_window{0};   // requests (TCP: connections) from the window's start on
  std::atomic<uint32_t> max_gap_us{0};  // longest time between two, the later one in the window
};
struct Shared {
  std::atomic<int64_t> window_start_ns{INT64_MAX};
  Hits* hits;  // [targets], right after this in the same mapping
};

void RecordHit(Shared& shared, int64_t index, int targets) {
  if (index < 0 || index >= targets) return;
  Hits& h = shared.hits[index];
  int64_t now = MonotonicNs();
  int64_t last = h.last_ns.load(std::memory_order_relaxed);
  h.last_ns.store(now, std::memory_order_relaxed);
  if (now < shared.window_start_ns.load(std::memory_order_relaxed)) return;
  h.in_window.fetch_add(1, std::memory_order_relaxed);
  if (last != 0) {
    auto gap = static_cast<uint32_t>((now - last) / 1000);
    if (gap > h.max_gap_us.load(std::memory_order_relaxed))
      h.max_gap_us.store(gap, std::memory_order_relaxed);
  }
}

// The health endpoint: any request gets a 200 with a two-byte body, keep-alive.
class EndpointServer {
 public:
  EndpointServer(asio::io_context& io, Shared& shared, const Flags& flags)
      : acceptor_(io), shared_(shared), flags_(flags) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::address_v4::any(), 0));
    acceptor_.listen(asio::socket_base::max_listen_connections);
    Accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(tcp::socket s, EndpointServer& server, int64_t index)
        : socket(std::move(s)), server(server), index(index) {}

    void Read() {
      socket.async_read_some(
          asio::buffer(buffer.data() + have, buffer.size() - have),
          [self = shared_from_this()](error_code ec, size_t n) { self->OnRead(ec, n); });
    }
    void OnRead(error_code ec, size_t n) {
      if (ec) return;
      have += n;
      // Requests carry no body: each ends at an empty line.
      std::string_view data(buffer.data(), have);
      size_t requests = 0, end = 0;
      for (size_t at; (at = data.find("\r\n\r\n", end)) != std::string_view::npos;) {
        end = at + 4;
        ++requests;
        RecordHit(server.shared_, index, server.flags_.targets);
      }
      if (end == 0 && have == buffer.size()) return;  // not a request we serve
      std::memmove(buffer.data(), buffer.data() + end, have - end);
      have -= end;
      if (requests == 0) return Read();
      out.clear();
      for (size_t i = 0; i < requests; ++i) out += kResponse;
      asio::async_write(socket, asio::buffer(out),
                        [self = shared_from_this()](error_code wec, size_t) {
                          if (!wec) self->Read();
                        });
    }

    static constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    tcp::socket socket;
    EndpointServer& server;
    int64_t index;
    std::array<char, 2048> buffer;
    size_t have = 0;
    std::string out;
  };

  void Accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (!ec) {
        error_code lec;
        tcp::endpoint local = socket.local_endpoint(lec);
        int64_t index =
            lec ? -1 : int64_t{local.address().to_v4().to_uint()} - int64_t{kFirstAddress};
        if (flags_.tcp) {
          RecordHit(shared_, index, flags_.targets);  // a TCP probe is the connection itself
        } else {
          socket.set_option(tcp::no_delay(true), lec);
          std::make_shared<Connection>(std::move(socket), *this, index)->Read();
        }
      }
      Accept();
    });
  }

  tcp::acceptor acceptor_;
  Shared& shared_;
  const Flags& flags_;
};

[[noreturn]] void RunServer(Shared& shared, const Flags& flags, int ready_fd, int cpu) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the checker
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
  }
  asio::io_context io(1);
  EndpointServer server(io, shared, flags);
  asio::signal_set stop(io, SIGTERM);
  stop.async_wait([&](error_code, int) { io.stop(); });
  uint16_t port = server.port();
  if (write(ready_fd, &port, sizeof(port)) != sizeof(port)) _exit(1);
  close(ready_fd);
  io.run();
  _exit(0);
}

// The first CPU this process is not allowed on (it was started under taskset), else -1.
int OtherCpu() {
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof(mine), &mine) != 0) return -1;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  for (int cpu = 0; cpu < cpus; ++cpu)
    if (!CPU_ISSET(cpu, &mine)) return cpu;
  return -1;
}

long RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);  // the thread that runs the checker's io_context
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Seconds a task spent runnable but waiting for a CPU (second field of /proc/.../schedstat): how
// much other work on its CPU held it back.
double WaitedForCpuSeconds(const std::string& schedstat) {
  std::ifstream in(schedstat);
  uint64_t ran = 0, waited = 0;
  in >> ran >> waited;
  return static_cast<double>(waited) / 1e9;
}

double Ms(hermes::health::Micros us) { return static_cast<double>(us.count()) / 1000.0; }

std::string Address(uint32_t address) { return asio::ip::address_v4(address).to_string(); }

}  // namespace

int main(int argc, char** argv) {
  std::optional<Flags> parsed = ParseFlags(argc, argv);
  if (!parsed) {
    Usage();
    return 2;
  }
  const Flags flags = *parsed;
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < static_cast<rlim_t>(flags.targets) + 64) {
    std::fprintf(stderr, "open files limit %llu is too low for %d targets\n",
                 static_cast<unsigned long long>(files.rlim_cur), flags.targets);
    return 1;
  }

  size_t shared_size = sizeof(Shared) + sizeof(Hits) * static_cast<size_t>(flags.targets);
  void* memory =
      mmap(nullptr, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  auto& shared = *new (memory) Shared;
  shared.hits = reinterpret_cast<Hits*>(static_cast<char*>(memory) + sizeof(Shared));
  for (int i = 0; i < flags.targets; ++i) new (&shared.hits[i]) Hits;
  int server_cpu = flags.server_cpu >= 0 ? flags.server_cpu : OtherCpu();
  int ready[2];
  if (pipe(ready) != 0) return 1;
  pid_t server = fork();
  if (server < 0) {
    std::perror("fork");
    return 1;
  }
  if (server == 0) {
    close(ready[0]);
    RunServer(shared, flags, ready[1], server_cpu);
  }
  close(ready[1]);
  uint16_t port = 0;
  if (read(ready[0], &port, sizeof(port)) != sizeof(port)) {
    std::fprintf(stderr, "the endpoint server did not start\n");
    return 1;
  }

  cpu_set_t mine;
  sched_getaffinity(0, sizeof(mine), &mine);
  std::string checker_cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &mine))
      checker_cpus += (checker_cpus.empty() ? "" : ",") + std::to_string(cpu);

  asio::io_context io(1);
  uint64_t transitions = 0;
  hermes::health::HealthCheckerOptions options;
  options.max_in_flight = flags.max_in_flight;
  auto checker = std::make_unique<hermes::health::HealthChecker>(
      io.get_executor(), [&](const std::string&, bool, const std::string&) { ++transitions; }, 1,
      options);

  std::vector<hermes::health::Target> targets;
  targets.reserve(static_cast<size_t>(flags.targets));
  for (int i = 0; i < flags.targets; ++i) {
    uint32_t address = kFirstAddress + static_cast<uint32_t>(i);
    hermes::health::Target t;
    t.key = "endpoint-" + std::to_string(i);
    t.host = Address(address);
    t.addresses = {tcp::endpoint(asio::ip::address_v4(address), port)};
    t.spec.kind =
        flags.tcp ? hermes::health::ProbeSpec::Kind::kTcp : hermes::health::ProbeSpec::Kind::kHttp;
    t.spec.interval = hermes::health::Millis(flags.interval_ms);
    t.spec.timeout = hermes::health::Millis(flags.timeout_ms);
    t.spec.initial_jitter = hermes::health::Millis(flags.initial_jitter_ms);
    targets.push_back(std::move(t));
  }
  long rss_before = RssKiB();
  checker->SetTargets(std::move(targets));
  targets = {};

  const std::string checker_schedstat =
      "/proc/self/task/" + std::to_string(gettid()) + "/schedstat";
  const std::string server_schedstat = "/proc/" + std::to_string(server) + "/schedstat";
  struct Sample {
    double cpu;
    double checker_waited, server_waited;
    hermes::health::HealthCheckerStats stats;
    SteadyClock::time_point at;
  };
  // Samples once a second: the window's start, probes finished and probes that waited per second.
  std::optional<Sample> window_start;
  std::vector<uint64_t> per_second;
  std::string waited_seconds;  // "t=3s: 120" for every second in which probes waited for a slot
  uint64_t last_finished = 0, last_waited = 0;
  const auto started = SteadyClock::now();
  asio::steady_timer tick(io);
  int second = 0;
  std::function<void(error_code)> on_tick = [&](error_code) {
    ++second;
    auto stats = checker->stats();
    if (second == flags.warmup_s) {
      window_start = Sample{CpuSeconds(), WaitedForCpuSeconds(checker_schedstat),
                            WaitedForCpuSeconds(server_schedstat), stats, SteadyClock::now()};
      shared.window_start_ns.store(MonotonicNs(), std::memory_order_relaxed);
    } else if (second > flags.warmup_s) {
      per_second.push_back(stats.probes_finished - last_finished);
    }
    last_finished = stats.probes_finished;
    if (stats.probes_waited > last_waited) {
      waited_seconds += (waited_seconds.empty() ? "" : ", ") + std::string("t=") +
                        std::to_string(second) +
                        "s: " + std::to_string(stats.probes_waited - last_waited);
    }
    last_waited = stats.probes_waited;
    if (second == flags.duration_s) return io.stop();
    tick.expires_at(started + std::chrono::seconds(second + 1));
    tick.async_wait(on_tick);
  };
  if (flags.warmup_s == 0) {
    window_start =
        Sample{CpuSeconds(), WaitedForCpuSeconds(checker_schedstat),
               WaitedForCpuSeconds(server_schedstat), checker->stats(), SteadyClock::now()};
    shared.window_start_ns.store(MonotonicNs(), std::memory_order_relaxed);
  }
  tick.expires_at(started + 1s);
  tick.async_wait(on_tick);
  io.run();

  Sample end{CpuSeconds(), WaitedForCpuSeconds(checker_schedstat),
             WaitedForCpuSeconds(server_schedstat), checker->stats(), SteadyClock::now()};

  long rss_after = RssKiB();
  checker->Stop();
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);

  // What the server saw, per target.
  const double window_s = std::chrono::duration<double>(end.at - window_start->at).count();
  const double interval_s = flags.interval_ms / 1000.0;
  const auto expected = static_cast<uint32_t>(window_s / interval_s);
  std::vector<uint32_t> gaps;
  int short_counted = 0, never = 0;
  for (int i = 0; i < flags.targets; ++i) {
    const Hits& h = shared.hits[i];
    if (h.last_ns == 0) ++never;
    // One probe fewer than whole intervals in the window can fall on either edge.
    if (h.in_window + 1 < expected) ++short_counted;
    gaps.push_back(h.max_gap_us);
  }
  std::sort(gaps.begin(), gaps.end());
  auto gap_ms = [&](double q) {
    return gaps[std::min(gaps.size() - 1,
                         static_cast<size_t>(q * static_cast<double>(gaps.size())))] /
           1000.0;
  };
  const double slack_ms = flags.interval_ms * 0.1;
  const auto over = static_cast<size_t>(
      gaps.end() - std::upper_bound(gaps.begin(), gaps.end(),
                                    static_cast<uint32_t>((flags.interval_ms + slack_ms) * 1000)));

  const auto& s0 = window_start->stats;
  const auto& s1 = end.stats;
  const uint64_t probes = s1.probes_finished - s0.probes_finished;
  const double cpu = end.cpu - window_start->cpu;
  const double configured = flags.targets / interval_s;
  const double achieved = static_cast<double>(probes) / window_s;
  uint64_t min_second =
      per_second.empty() ? 0 : *std::min_element(per_second.begin(), per_second.end());
  uint64_t max_second =
      per_second.empty() ? 0 : *std::max_element(per_second.begin(), per_second.end());
  const bool every = never == 0 && short_counted == 0 && over == 0 && s1.probes_failed == 0;

  std::printf(
      "targets            %d (%s .. %s, port %u), %s probes every %d ms, timeout %d ms, initial "
      "jitter %d ms\n",
      flags.targets, Address(kFirstAddress).c_str(),
      Address(kFirstAddress + static_cast<uint32_t>(flags.targets) - 1).c_str(), port,
      flags.tcp ? "TCP" : "HTTP keep-alive", flags.interval_ms, flags.timeout_ms,
      flags.initial_jitter_ms);
  std::printf("cpus               checker on %s, endpoint server on %s; max in flight %zu\n",
              checker_cpus.c_str(), server_cpu >= 0 ? std::to_string(server_cpu).c_str() : "any",
              flags.max_in_flight);
  std::printf("window             %.1f s (after %d s of warm-up)\n", window_s, flags.warmup_s);
  std::printf(
      "probes/s           %.0f achieved, %.0f configured (per second: min %llu, max %llu)\n",
      achieved, configured, static_cast<unsigned long long>(min_second),
      static_cast<unsigned long long>(max_second));
  std::printf(
      "cpu                %.3f s user+sys in the window = %.1f%% of one core; %.1f ms per 1,000 "
      "probes\n",
      cpu, 100.0 * cpu / window_s, probes ? 1e6 * cpu / static_cast<double>(probes) : 0.0);
  std::printf(
      "waited for a CPU   checker %.0f ms, endpoint server %.0f ms in the window (runnable while "
      "other work ran)\n",
      1e3 * (end.checker_waited - window_start->checker_waited),
      1e3 * (end.server_waited - window_start->server_waited));
  std::printf(
      "memory             RSS %ld KiB before the targets, %ld KiB at the end: %.0f bytes per "
      "target\n",
      rss_before, rss_after, 1024.0 * static_cast<double>(rss_after - rss_before) / flags.targets);
  const hermes::health::LatenessHistogram lateness = s1.lateness.Since(s0.lateness);
  std::printf(
      "lateness           p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms (start - due, the "
      "window's %llu probes)\n",
      Ms(lateness.Quantile(0.5)), Ms(lateness.Quantile(0.99)), Ms(lateness.Quantile(0.999)),
      Ms(lateness.max()), static_cast<unsigned long long>(lateness.count()));
  std::printf("                   whole run: p99 %.2f ms, max %.2f ms\n",
              Ms(s1.lateness.Quantile(0.99)), Ms(s1.lateness.max()));
  std::printf("waited for a slot  %llu probes in the window, %llu in the whole run%s%s\n",
              static_cast<unsigned long long>(s1.probes_waited - s0.probes_waited),
              static_cast<unsigned long long>(s1.probes_waited),
              waited_seconds.empty() ? "" : "; per second: ", waited_seconds.c_str());
  std::printf(
      "connections        %llu opened, %llu probes on a reused one, %llu stale retries (whole "
      "run); %zu open at the end\n",
      static_cast<unsigned long long>(s1.connections_opened),
      static_cast<unsigned long long>(s1.connections_reused),
      static_cast<unsigned long long>(s1.stale_retries), s1.open_connections);
  std::printf("failures           %llu failed probes, %llu health transitions\n",
              static_cast<unsigned long long>(s1.probes_failed),
              static_cast<unsigned long long>(transitions));
  std::printf(
      "server saw         per target in the window: >= %u probes expected, %d targets short, %d "
      "never probed;\n"
      "                   longest gap per target p50 %.1f ms, p99 %.1f ms, max %.1f ms; %zu "
      "targets over %.0f ms\n",
      expected > 0 ? expected - 1 : 0, short_counted, never, gap_ms(0.5), gap_ms(0.99), gap_ms(1.0),
      over, flags.interval_ms + slack_ms);
  std::printf("every target probed every interval: %s\n", every ? "yes" : "NO");
  return every ? 0 : 3;
}
