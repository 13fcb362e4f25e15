#include "runtime/linux/seccomp.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/fd.h"
#include "base/status.h"

namespace berth::runtime {
namespace {

// Owns a libseccomp filter context.
class FilterContext {
 public:
  explicit FilterContext(uint32_t default_action) : ctx_(seccomp_init(default_action)) {}
  ~FilterContext() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

absl::Status LibError(int result, const std::string& call, const std::string& operand) {
  return ErrnoError(-result, call, operand);
}

uint32_t ActionValue(const std::string& action, std::optional<uint32_t> errno_ret) {
  uint16_t code = static_cast<uint16_t>(errno_ret.value_or(EPERM));
  if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (action == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (action == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (action == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(code);
  if (action == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(code);
  if (action == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  return SCMP_ACT_ALLOW;  // ValidateSeccomp admits nothing else
}

scmp_compare Operator(const std::string& op) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return SCMP_CMP_EQ;
}

scmp_arg_cmp Condition(const SeccompArg& arg) {
  // For MASKED_EQ the OCI "value" is the mask, as libseccomp's first datum is.
  return scmp_arg_cmp{arg.index, Operator(arg.op), arg.value, arg.value_two};
}

absl::Status AddArchitectures(scmp_filter_ctx ctx, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    std::string token = absl::AsciiStrToLower(
        absl::StartsWith(name, "SCMP_ARCH_") ? name.substr(10) : name);
    uint32_t arch = seccomp_arch_resolve_name(token.c_str());
    if (arch == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("seccomp: architecture \"", name, "\" is unknown to libseccomp"));
    }
    int result = seccomp_arch_add(ctx, arch);
    if (result != 0 && result != -EEXIST) return LibError(result, "seccomp_arch_add", name);
  }
  return absl::OkStatus();
}

// Adds the rule for one syscall. Conditions on distinct arguments must all hold; several
// conditions on the same argument are alternatives, each a rule of its own.
absl::Status AddRule(scmp_filter_ctx ctx, const std::string& name, int number, uint32_t action,
                     const std::vector<SeccompArg>& args) {
  std::set<uint32_t> indexes;
  for (const SeccompArg& arg : args) indexes.insert(arg.index);
  std::vector<scmp_arg_cmp> conditions;
  for (const SeccompArg& arg : args) conditions.push_back(Condition(arg));

  if (indexes.size() == args.size()) {
    int result = seccomp_rule_add_array(ctx, action, number,
                                        static_cast<unsigned>(conditions.size()),
                                        conditions.empty() ? nullptr : conditions.data());
    if (result != 0) return LibError(result, "seccomp_rule_add", name);
    return absl::OkStatus();
  }
  for (const scmp_arg_cmp& condition : conditions) {
    int result = seccomp_rule_add_array(ctx, action, number, 1, &condition);
    if (result != 0) return LibError(result, "seccomp_rule_add", name);
  }
  return absl::OkStatus();
}

absl::StatusOr<unsigned int> FilterFlags(const std::vector<std::string>& names) {
  unsigned int flags = 0;
  for (const std::string& name : names) {
    if (name == "SECCOMP_FILTER_FLAG_TSYNC") {
      flags |= SECCOMP_FILTER_FLAG_TSYNC;
    } else if (name == "SECCOMP_FILTER_FLAG_LOG") {
      flags |= SECCOMP_FILTER_FLAG_LOG;
    } else if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
      flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("seccomp: unknown flag \"", name, "\""));
    }
  }
  return flags;
}

// libseccomp writes the program to a descriptor; a memfd keeps it in memory.
absl::StatusOr<std::vector<sock_filter>> ExportProgram(scmp_filter_ctx ctx) {
  UniqueFd memfd(static_cast<int>(::syscall(SYS_memfd_create, "berth-seccomp", MFD_CLOEXEC)));
  if (!memfd) return ErrnoError(errno, "memfd_create", "seccomp program");
  int result = seccomp_export_bpf(ctx, memfd.get());
  if (result != 0) return LibError(result, "seccomp_export_bpf", "");
  struct stat st;
  if (::fstat(memfd.get(), &st) != 0) return ErrnoError(errno, "fstat", "seccomp program");
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0) {
    return absl::InternalError(absl::StrCat("seccomp: exported program has ", size, " bytes"));
  }
  std::vector<sock_filter> program(size / sizeof(sock_filter));
  ssize_t n = ::pread(memfd.get(), program.data(), size, 0);
  if (n != static_cast<ssize_t>(size)) return ErrnoError(n < 0 ? errno : EIO, "read", "seccomp program");
  return program;
}

}  // namespace

absl::StatusOr<CompiledSeccomp> CompileSeccomp(const Seccomp& profile) {
  BERTH_RETURN_IF_ERROR(ValidateSeccomp(profile, ""));
  CompiledSeccomp compiled;
  BERTH_ASSIGN_OR_RETURN(compiled.flags, FilterFlags(profile.flags));

  uint32_t default_action = ActionValue(profile.default_action, profile.default_errno_ret);
  FilterContext ctx(default_action);
  if (ctx.get() == nullptr) return absl::InternalError("seccomp_init failed");
  BERTH_RETURN_IF_ERROR(AddArchitectures(ctx.get(), profile.architectures));

  for (const SeccompSyscall& rule : profile.syscalls) {
    uint32_t action = ActionValue(rule.action, rule.errno_ret);
    if (action == default_action) continue;
    for (const std::string& name : rule.names) {
      int number = seccomp_syscall_resolve_name(name.c_str());
      if (number == __NR_SCMP_ERROR) continue;
      BERTH_RETURN_IF_ERROR(AddRule(ctx.get(), name, number, action, rule.args));
    }
  }
  BERTH_ASSIGN_OR_RETURN(compiled.program, ExportProgram(ctx.get()));
  return compiled;
}

absl::Status InstallSeccomp(const CompiledSeccomp& filter) {
  sock_fprog prog;
  prog.len = static_cast<unsigned short>(filter.program.size());
  prog.filter = const_cast<sock_filter*>(filter.program.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter.flags, &prog) != 0) {
    return ErrnoError(errno, "seccomp(SECCOMP_SET_MODE_FILTER)",
                      absl::StrCat(filter.program.size(), " instructions"));
  }
  return absl::OkStatus();
}

}  // namespace berth::runtime
