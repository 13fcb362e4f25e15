#include "image/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/id.h"
#include "base/status.h"

namespace berth::image {

ContentStore::ContentStore(std::string root)
    : blobs_dir_(JoinPath(root, "blobs/sha256")), ingest_dir_(JoinPath(root, "ingest")) {}

absl::Status ContentStore::Init() {
  BERTH_RETURN_IF_ERROR(MakeDirs(blobs_dir_, 0700));
  BERTH_RETURN_IF_ERROR(RemoveAll(ingest_dir_));
  return MakeDirs(ingest_dir_, 0700);
}

std::string ContentStore::BlobPath(std::string_view digest) const {
  return JoinPath(blobs_dir_, DigestHex(digest));
}

bool ContentStore::Has(std::string_view digest) const {
  return ValidateDigest(digest).ok() && PathExists(BlobPath(digest));
}

absl::StatusOr<std::string> ContentStore::Read(std::string_view digest, int64_t max_bytes) const {
  BERTH_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string path = BlobPath(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat blob", path);
  if (st.st_size > max_bytes) {
    return absl::FailedPreconditionError(absl::StrCat("blob ", std::string(digest), " has ",
                                                      st.st_size, " bytes, more than the limit of ",
                                                      max_bytes));
  }
  return ReadFile(path);
}

absl::StatusOr<std::unique_ptr<ContentStore::Writer>> ContentStore::NewWriter(
    std::string_view digest, int64_t size, std::string what) {
  BERTH_RETURN_IF_ERROR(Annotate(ValidateDigest(digest), what));
  std::string temp_path = JoinPath(ingest_dir_, NewId());
  UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return ErrnoError(errno, "create", temp_path);
  DigestVerifier verifier(std::move(what), std::string(digest), size);
  return std::unique_ptr<Writer>(
      new Writer(std::move(temp_path), BlobPath(digest), std::move(fd), std::move(verifier)));
}

absl::Status ContentStore::Put(std::string_view digest, std::string_view data, std::string what) {
  BERTH_ASSIGN_OR_RETURN(auto writer,
                         NewWriter(digest, static_cast<int64_t>(data.size()), std::move(what)));
  BERTH_RETURN_IF_ERROR(writer->Write(data));
  return writer->Commit();
}

absl::Status ContentStore::Delete(std::string_view digest) {
  BERTH_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string path = BlobPath(digest);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "unlink", path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ContentStore::List() const {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(blobs_dir_.c_str()), ::closedir);
  if (!dir) return ErrnoError(errno, "opendir", blobs_dir_);
  std::vector<std::string> digests;
  while (struct dirent* entry = ::readdir(dir.get())) {
    std::string digest = absl::StrCat(std::string(kSha256Prefix), entry->d_name);
    if (ValidateDigest(digest).ok()) digests.push_back(std::move(digest));
  }
  return digests;
}

ContentStore::Writer::Writer(std::string temp_path, std::string final_path, UniqueFd fd,
                             DigestVerifier verifier)
    : temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)),
      fd_(std::move(fd)),
      verifier_(std::move(verifier)) {}

ContentStore::Writer::~Writer() {
  if (!committed_) ::unlink(temp_path_.c_str());
}

absl::Status ContentStore::Writer::Write(std::string_view chunk) {
  BERTH_RETURN_IF_ERROR(verifier_.Update(chunk));
  return WriteAll(fd_.get(), chunk, temp_path_);
}

absl::Status ContentStore::Writer::Commit() {
  BERTH_RETURN_IF_ERROR(verifier_.Finish());
  if (::fsync(fd_.get()) != 0) return ErrnoError(errno, "fsync", temp_path_);
  fd_.Reset();
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return ErrnoError(errno, "rename", final_path_);
  }
  committed_ = true;
  return absl::OkStatus();
}

}  // namespace berth::image
