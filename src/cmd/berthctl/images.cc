// Image verbs: pull, images, inspecti, rmi.
#include <algorithm>
#include <iostream>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "cmd/berthctl/config_file.h"
#include "cmd/berthctl/json_output.h"
#include "cmd/berthctl/tables.h"
#include "cmd/berthctl/verb.h"

namespace berth::ctl {
namespace {

using runtime::v1::ImageService;

absl::StatusOr<runtime::v1::ImageStatusResponse> ImageStatus(Session& session,
                                                            const std::string& image,
                                                            bool verbose) {
  runtime::v1::ImageStatusRequest request;
  request.mutable_image()->set_image(image);
  request.set_verbose(verbose);
  return session.client().Call(&ImageService::Stub::ImageStatus, request,
                               session.client().ReadTimeout());
}

absl::Status NoSuchImage(const std::string& image) {
  return absl::NotFoundError(absl::StrCat("no such image \"", image, "\""));
}

struct PullOptions {
  AuthFlags auth;
  std::string pod_config;
  bool quiet = false;
};

absl::StatusOr<int> RunPull(Session& session, const PullOptions& options, const Args& args) {
  runtime::v1::PodSandboxConfig sandbox;
  if (!options.pod_config.empty()) {
    absl::StatusOr<runtime::v1::PodSandboxConfig> loaded = LoadPodSandboxConfig(options.pod_config);
    if (!loaded.ok()) return loaded.status();
    sandbox = *std::move(loaded);
  }
  // Berth's admin service shows the progress; another CRI runtime gets a plain CRI pull.
  absl::StatusOr<std::string> ref = PullWithProgress(session, args[0], options.auth,
                                                     options.quiet);
  if (absl::IsUnimplemented(ref.status())) {
    ref = PullImage(session, args[0], options.auth,
                    options.pod_config.empty() ? nullptr : &sandbox);
  }
  if (!ref.ok()) return ref.status();
  std::cout << "Image is up to date for " << *ref << "\n";
  return 0;
}

struct ImagesOptions {
  bool quiet = false;
  bool digests = false;
  bool no_trunc = false;
  std::string output = "table";
};

// Images ordered by their first tag, untagged images last.
void SortImages(std::vector<runtime::v1::Image>* images) {
  std::stable_sort(images->begin(), images->end(), [](const auto& a, const auto& b) {
    if (a.repo_tags().empty() != b.repo_tags().empty()) return b.repo_tags().empty();
    if (a.repo_tags().empty()) return false;
    return a.repo_tags(0) < b.repo_tags(0);
  });
}

absl::StatusOr<int> RunImages(Session& session, const ImagesOptions& options, const Args& args) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(options.output, /*allow_table=*/true);
  if (!format.ok()) return format.status();

  runtime::v1::ListImagesRequest request;
  if (!args.empty()) request.mutable_filter()->mutable_image()->set_image(args[0]);
  absl::StatusOr<runtime::v1::ListImagesResponse> response = session.client().Call(
      &ImageService::Stub::ListImages, request, session.client().ReadTimeout());
  if (!response.ok()) return response.status();
  std::vector<runtime::v1::Image> images(response->images().begin(), response->images().end());
  SortImages(&images);

  if (options.quiet) {
    std::set<std::string> printed;
    for (const auto& image : images) {
      if (printed.insert(image.id()).second) std::cout << image.id() << "\n";
    }
    return 0;
  }
  if (*format == OutputFormat::kTable) {
    std::cout << ImagesTable(images, options.digests, {options.no_trunc, NowNanos()});
    return 0;
  }
  runtime::v1::ListImagesResponse sorted;
  for (auto& image : images) *sorted.add_images() = std::move(image);
  absl::StatusOr<nlohmann::ordered_json> tree = MessageToJsonTree(sorted);
  if (!tree.ok()) return tree.status();
  std::cout << RenderTree(*tree, *format);
  return 0;
}

absl::StatusOr<int> RunInspectImage(Session& session, const std::string& output,
                                    const Args& args) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(output, /*allow_table=*/false);
  if (!format.ok()) return format.status();
  return ForEachId(session, args, [&](const std::string& image) -> absl::Status {
    absl::StatusOr<runtime::v1::ImageStatusResponse> response =
        ImageStatus(session, image, /*verbose=*/true);
    if (!response.ok()) return response.status();
    if (!response->has_image()) return NoSuchImage(image);
    absl::StatusOr<nlohmann::ordered_json> tree =
        StatusWithInfo(response->image(), response->info());
    if (!tree.ok()) return tree.status();
    std::cout << RenderTree(*tree, *format);
    return absl::OkStatus();
  });
}

// Removes one image by id and prints each of its names.
absl::Status RemoveImage(Session& session, const runtime::v1::Image& image) {
  runtime::v1::RemoveImageRequest request;
  request.mutable_image()->set_image(image.id());
  absl::StatusOr<runtime::v1::RemoveImageResponse> response = session.client().Call(
      &ImageService::Stub::RemoveImage, request, session.client().ChangeTimeout());
  if (!response.ok()) return response.status();
  if (image.repo_tags().empty()) std::cout << "Deleted: " << image.id() << "\n";
  for (const std::string& tag : image.repo_tags()) std::cout << "Deleted: " << tag << "\n";
  return absl::OkStatus();
}

absl::StatusOr<int> RunRemoveImages(Session& session, bool all, const Args& args) {
  if (all == !args.empty()) {
    return absl::InvalidArgumentError("expected images to remove or --all, not both");
  }
  if (all) {
    absl::StatusOr<runtime::v1::ListImagesResponse> list =
        session.client().Call(&ImageService::Stub::ListImages, runtime::v1::ListImagesRequest(),
                              session.client().ReadTimeout());
    if (!list.ok()) return list.status();
    int exit_code = 0;
    for (const auto& image : list->images()) {
      if (absl::Status status = RemoveImage(session, image); !status.ok()) {
        session.PrintError(status);
        exit_code = 1;
      }
    }
    return exit_code;
  }

  // Each name is resolved to its image first, so the image goes with all of its tags, as
  // crictl does, and an unknown name is reported rather than silently ignored.
  return ForEachId(session, args, [&](const std::string& name) -> absl::Status {
    absl::StatusOr<runtime::v1::ImageStatusResponse> status =
        ImageStatus(session, name, /*verbose=*/false);
    if (!status.ok()) return status.status();
    if (!status->has_image()) return NoSuchImage(name);
    return RemoveImage(session, status->image());
  });
}

}  // namespace

absl::StatusOr<runtime::v1::AuthConfig> MakeAuthConfig(const AuthFlags& flags) {
  runtime::v1::AuthConfig auth;
  if (!flags.creds.empty()) {
    const size_t colon = flags.creds.find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError("invalid --creds: expected USERNAME:PASSWORD");
    }
    auth.set_username(flags.creds.substr(0, colon));
    auth.set_password(flags.creds.substr(colon + 1));
  }
  if (!flags.auth.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(flags.auth, &decoded) || decoded.find(':') == std::string::npos) {
      return absl::InvalidArgumentError("invalid --auth: expected the base64 of USERNAME:PASSWORD");
    }
    auth.set_auth(flags.auth);
  }
  return auth;
}

void AddAuthFlags(FlagSet& flags, AuthFlags* auth) {
  flags.AddString("creds", 0, &auth->creds, "USER:PASS", "registry credentials for the pull");
  flags.AddString("auth", 0, &auth->auth, "BASE64",
                  "registry credentials for the pull, as base64 of USER:PASS");
}

absl::StatusOr<std::string> PullImage(Session& session, const std::string& image,
                                      const AuthFlags& auth,
                                      const runtime::v1::PodSandboxConfig* sandbox) {
  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(image);
  if (!auth.creds.empty() || !auth.auth.empty()) {
    absl::StatusOr<runtime::v1::AuthConfig> config = MakeAuthConfig(auth);
    if (!config.ok()) return config.status();
    *request.mutable_auth() = *std::move(config);
  }
  if (sandbox != nullptr) *request.mutable_sandbox_config() = *sandbox;
  absl::StatusOr<runtime::v1::PullImageResponse> response = session.client().Call(
      &ImageService::Stub::PullImage, request, session.client().PullTimeout());
  if (!response.ok()) return response.status();
  return response->image_ref();
}

absl::StatusOr<bool> HasImage(Session& session, const std::string& image) {
  absl::StatusOr<runtime::v1::ImageStatusResponse> status =
      ImageStatus(session, image, /*verbose=*/false);
  if (!status.ok()) return status.status();
  return status->has_image();
}

VerbGroup ImageVerbs() {
  VerbGroup group{"Images", {}};

  group.verbs.push_back(Verb{
      .name = "pull",
      .args = "IMAGE",
      .summary = "Pull an image from a registry",
      .details = "Pulls IMAGE (a reference such as docker.io/library/busybox:latest) and prints\n"
                 "the image it resolved to on the last line. While it waits, berthd's admin\n"
                 "service feeds a progress display: bytes per layer, total and rate, redrawn on\n"
                 "a terminal, plain lines otherwise. A runtime without that service gets a plain\n"
                 "CRI pull. A pull waits up to --pull-timeout (a global flag).\n",
      .min_args = 1,
      .max_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<PullOptions>();
            AddAuthFlags(flags, &options->auth);
            flags.AddString("pod-config", 'p', &options->pod_config, "FILE",
                            "config of the pod the image is for (JSON or YAML)");
            flags.AddBool("quiet", 'q', &options->quiet,
                          "show no progress, only the final line");
            return Action([options](Session& session, const Args& args) {
              return RunPull(session, *options, args);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "images",
      .args = "[REPOSITORY[:TAG]]",
      .summary = "List images",
      .details = "Lists the images the runtime holds, one row per tag, or only those matching\n"
                 "REPOSITORY[:TAG].\n",
      .min_args = 0,
      .max_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto options = std::make_shared<ImagesOptions>();
            flags.AddBool("quiet", 'q', &options->quiet, "print only image ids");
            flags.AddBool("digests", 0, &options->digests, "add a DIGEST column");
            flags.AddBool("no-trunc", 0, &options->no_trunc, "show ids and digests in full");
            AddOutputFlag(flags, &options->output, /*allow_table=*/true);
            return Action([options](Session& session, const Args& args) {
              return RunImages(session, *options, args);
            });
          },
      .aliases = {"image", "img"},
  });

  group.verbs.push_back(ImportVerb());

  group.verbs.push_back(Verb{
      .name = "inspecti",
      .args = "IMAGE [IMAGE...]",
      .summary = "Show the full status of images",
      .details = "Prints the status of each IMAGE (CRI ImageStatus, verbose), with the details\n"
                 "the runtime adds under \"info\". IMAGE is a reference or an image id.\n",
      .min_args = 1,
      .setup =
          [](FlagSet& flags) {
            auto output = std::make_shared<std::string>("json");
            AddOutputFlag(flags, output.get(), /*allow_table=*/false);
            return Action([output](Session& session, const Args& args) {
              return RunInspectImage(session, *output, args);
            });
          },
  });

  group.verbs.push_back(Verb{
      .name = "rmi",
      .args = "IMAGE [IMAGE...]",
      .summary = "Remove images",
      .details = "Removes each IMAGE, with all of its tags, and prints the names removed.\n"
                 "IMAGE is a reference or an image id.\n",
      .min_args = 0,
      .setup =
          [](FlagSet& flags) {
            auto all = std::make_shared<bool>(false);
            flags.AddBool("all", 'a', all.get(), "remove every image");
            return Action([all](Session& session, const Args& args) {
              return RunRemoveImages(session, *all, args);
            });
          },
  });
  return group;
}

}  // namespace berth::ctl
