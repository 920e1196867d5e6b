#pragma once

// A verb's conversation with the daemon: one request, its result, and the
// exit-code convention every client verb shares (commands.hpp).

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace arbor::cli {

/// How long to wait for each message of a reply.
constexpr int default_timeout_ms = 30'000;
/// For verbs that wait on processes (stop waits out kill_timeout): 10 minutes.
constexpr int action_timeout_ms = 10 * 60'000;
/// Wait forever (streams).
constexpr int no_timeout = -1;

/// Receives each stream item (e.g. an event of `events -f`); return false to
/// end the stream (call_daemon then returns an empty object).
using item_handler = std::function<bool(const nlohmann::json& item)>;

/// Connects to socket_path(), sends `cmd` with `args`, waits for the final
/// reply and returns its `result`. Never returns on failure; it prints to
/// stderr and throws CLI::RuntimeError with the exit code:
///   - cannot connect: "arbor: <the client's message>", exit_no_daemon;
///   - the connection fails afterwards (timeout, daemon gone): exit_failed;
///   - an error reply: render_error() (message, then config_invalid's
///     diagnostics one per line), exit_bad_config for config_invalid, else
///     exit_failed.
nlohmann::json call_daemon(const std::string& cmd,
                           const nlohmann::json& args = nlohmann::json::object(),
                           int timeout_ms = default_timeout_ms, const item_handler& on_item = {});

/// Prints "arbor: <message>" on stderr and throws CLI::RuntimeError(code).
[[noreturn]] void fail(int code, const std::string& message);

/// `--json` output: `j` as one document, 2-space indent, then a newline.
void print_json(const nlohmann::json& j);

/// JSONL output: `j` compact on one line. Returns false if stdout is gone
/// (a closed pipe), so a stream can end.
bool print_json_line(const nlohmann::json& j);

/// Writes `text` to stdout now (unbuffered); false if stdout is gone.
bool write_out(const std::string& text);

/// Calls `handler` on SIGINT and SIGTERM: how a follow (and `top`) ends.
void on_interrupt(void (*handler)(int));

} // namespace arbor::cli
