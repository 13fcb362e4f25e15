// Error helpers shared by every module. Errors are absl::Status values whose code follows the
// errno that caused them, and whose message names the failed call and its operand.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

// Maps an errno value to the status code a caller can branch on: ENOENT is NotFound, EEXIST is
// AlreadyExists, EPERM and EACCES are PermissionDenied, EINVAL is InvalidArgument, ETIMEDOUT is
// DeadlineExceeded, ENOSPC is ResourceExhausted, anything else is Internal.
absl::StatusCode ErrnoToCode(int err);

// Builds "<call> <operand>: <strerror(err)>" with the code of ErrnoToCode(err), e.g.
// ErrnoError(ENOENT, "open", "/etc/hosts") -> NotFound "open /etc/hosts: No such file or directory".
// An empty operand is left out.
absl::Status ErrnoError(int err, std::string_view call, std::string_view operand = {});

// Prefixes the message of a failed status with "<context>: " and keeps its code. OK stays OK.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace berth

#define BERTH_STATUS_CONCAT_INNER(a, b) a##b
#define BERTH_STATUS_CONCAT(a, b) BERTH_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define BERTH_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::absl::Status berth_status_ = (expr);     \
    if (!berth_status_.ok()) return berth_status_; \
  } while (false)

// Evaluates a StatusOr expression. On error it returns the status from the enclosing function,
// else it moves the value into `lhs`, a declaration such as `auto x` or an existing variable.
#define BERTH_ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL(BERTH_STATUS_CONCAT(berth_statusor_, __LINE__), lhs, expr)
#define BERTH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
