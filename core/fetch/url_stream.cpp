#include "core/fetch/url_stream.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/common/error.h"

namespace llmeval::fetch {

struct UrlStream::State {
  std::string url;
  int write_fd = -1;
  std::FILE* read_file = nullptr;
  std::thread thread;
  std::mutex mutex;
  std::string error;  // guarded by mutex
  bool finished = false;
  std::atomic<bool> stop{false};  // the reader is gone: abort even while no data comes

  static int on_progress(void* arg, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<State*>(arg)->stop.load() ? 1 : 0;
  }

  // Bytes after the last newline so far: a line goes into the pipe only once it is whole, so a
  // download cut mid-line never hands the reader half a row (which would be recorded as
  // invalid_json). Past kMaxHeld a line goes through anyway: longer than any row the reader
  // accepts, it becomes a line_too_long row whatever follows.
  static constexpr std::size_t kMaxHeld = 64u << 20;
  std::string held;

  // Blocking writes on the download thread: a full pipe waits for the reader.
  bool write_all(const char* data, std::size_t length) {
    for (std::size_t sent = 0; sent < length;) {
      ssize_t n = ::write(write_fd, data + sent, length - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;  // the reader is gone
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  static size_t on_data(char* data, size_t size, size_t count, void* arg) {
    auto* self = static_cast<State*>(arg);
    std::size_t length = size * count;
    const void* newline = std::memchr(data, '\n', length);
    if (newline == nullptr && self->held.size() + length <= kMaxHeld) {
      self->held.append(data, length);
      return length;
    }
    std::size_t whole = length;  // up to and including the last newline
    while (whole > 0 && data[whole - 1] != '\n' && self->held.size() + length <= kMaxHeld) --whole;
    if (!self->held.empty() && !self->write_all(self->held.data(), self->held.size())) return 0;
    self->held.assign(data + whole, length - whole);
    return self->write_all(data, whole) ? length : 0;  // 0 aborts the transfer
  }

  void download() {
    // SIGPIPE (the reader closed early) is blocked on this thread: the write fails with EPIPE.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    std::string problem;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      problem = "could not start libcurl";
    } else {
      char message[CURL_ERROR_SIZE] = {};
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
      curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, message);
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &State::on_data);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &State::on_progress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
      CURLcode code = curl_easy_perform(curl);
      if (code != CURLE_OK) problem = message[0] != '\0' ? message : curl_easy_strerror(code);
      // A last line without a newline is whole only when the download is.
      if (code == CURLE_OK && !held.empty() && !write_all(held.data(), held.size())) problem = "the reader stopped";
      curl_easy_cleanup(curl);
    }
    {
      std::lock_guard lock(mutex);
      error = problem;
      finished = true;
    }
    ::close(write_fd);  // the reader sees the end
    write_fd = -1;
  }
};

bool is_url(std::string_view path) { return path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0; }

std::string to_display(std::string_view url) {
  std::size_t cut = url.find_first_of("?#");
  std::string shown(url.substr(0, cut));
  // user:password@ in the authority would be a secret too.
  std::size_t scheme = shown.find("://");
  std::size_t at = shown.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  std::size_t slash = shown.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) shown.erase(scheme + 3, at - scheme - 2);
  return shown;
}

Result<std::unique_ptr<UrlStream>> UrlStream::open(std::string url) {
  auto state = std::make_unique<State>();
  state->url = std::move(url);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Error(ErrorKind::kIo, std::string("cannot make a pipe: ") + std::strerror(errno));
  }
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  state->write_fd = fds[1];
  state->read_file = ::fdopen(fds[0], "rb");
  if (state->read_file == nullptr) {
    int error = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Error(ErrorKind::kIo, std::string("cannot read a pipe: ") + std::strerror(error));
  }
  return std::unique_ptr<UrlStream>(new UrlStream(std::move(state)));
}

UrlStream::UrlStream(std::unique_ptr<State> state) : state_(std::move(state)) {
  state_->thread = std::thread([state = state_.get()] { state->download(); });
}

UrlStream::~UrlStream() {
  state_->stop = true;
  std::fclose(state_->read_file);  // a download still running fails its next write and stops
  if (state_->thread.joinable()) state_->thread.join();
}

std::FILE* UrlStream::file() const { return state_->read_file; }

std::string UrlStream::finish() {
  if (state_->thread.joinable()) state_->thread.join();
  std::lock_guard lock(state_->mutex);
  return state_->error;
}

}  // namespace llmeval::fetch
