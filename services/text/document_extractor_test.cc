#include "services/text/document_extractor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"

namespace quarry::text {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

ExtractedDocument ExtractOrDie(absl::string_view bytes, absl::string_view file_name) {
  absl::StatusOr<ExtractedDocument> document = ExtractDocument(bytes, file_name, {});
  EXPECT_TRUE(document.ok()) << document.status();
  return document.ok() ? *std::move(document) : ExtractedDocument();
}

// A file in the test's temporary directory, removed when the test ends.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& bytes)
      : path_(std::string(::testing::TempDir()) + "/" + name) {
    std::ofstream(path_, std::ios::binary) << bytes;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ExtractDocument, SplitsPlainTextIntoParagraphsOnBlankLines) {
  const ExtractedDocument document =
      ExtractOrDie("First paragraph,\nwrapped over   two lines.\n\n\n  \nSecond one.\r\n\r\nThird.",
                   "notes/Read Me.txt");
  EXPECT_EQ(document.media_type, "text/plain");
  EXPECT_EQ(document.title, "Read Me");
  ASSERT_EQ(document.blocks.size(), 3u);
  EXPECT_EQ(document.blocks[0].text, "First paragraph, wrapped over two lines.");
  EXPECT_EQ(document.blocks[1].text, "Second one.");
  EXPECT_EQ(document.blocks[2].text, "Third.");
  EXPECT_TRUE(document.blocks[0].heading_path.empty());
  EXPECT_EQ(document.blocks[0].page, 0);
  EXPECT_EQ(document.replaced_invalid_bytes, 0u);
}

TEST(ExtractDocument, HashesTheRawBytes) {
  const ExtractedDocument a = ExtractOrDie("Same text.", "a.txt");
  const ExtractedDocument b = ExtractOrDie("Same text.", "b.md");
  const ExtractedDocument c = ExtractOrDie("Same text!", "a.txt");
  EXPECT_EQ(a.content_hash.size(), 32u);
  EXPECT_EQ(a.content_hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a.content_hash, b.content_hash);
  EXPECT_NE(a.content_hash, c.content_hash);
}

TEST(ExtractDocument, TakesTheTypeFromContentBeforeExtension) {
  EXPECT_EQ(ExtractOrDie("<!DOCTYPE html><p>Hi</p>", "page.txt").media_type, "text/html");
  EXPECT_EQ(ExtractOrDie("<p>Hi</p>", "page.htm").media_type, "text/html");
  EXPECT_EQ(ExtractOrDie("# Title\n\nText.", "README").media_type, "text/markdown");
  EXPECT_EQ(ExtractOrDie("# not a heading in a .txt", "notes.txt").media_type, "text/plain");
  EXPECT_EQ(ExtractOrDie("Text.", "guide.markdown").media_type, "text/markdown");
}

TEST(ExtractDocument, ReplacesAndCountsInvalidUtf8) {
  // A stray continuation byte (1), two bytes that never start a character (2) and a truncated
  // three-byte character (2 bytes, one replacement).
  const ExtractedDocument document =
      ExtractOrDie("caf\xC3\xA9 \x80 ok \xFF\xFE end \xE4\xB8", "mixed.txt");
  EXPECT_EQ(document.replaced_invalid_bytes, 5u);
  ASSERT_EQ(document.blocks.size(), 1u);
  EXPECT_EQ(document.blocks[0].text, std::string("caf\xC3\xA9 ") + kReplacement + " ok " +
                                         kReplacement + kReplacement + " end " + kReplacement);
}

TEST(ExtractDocument, DecodesUtf16WithAByteOrderMark) {
  const std::string utf16le("\xFF\xFEH\0i\0 \0\x2D\x4E\x87\x65", 12);  // "Hi 中文"
  const ExtractedDocument document = ExtractOrDie(utf16le, "hi.txt");
  ASSERT_EQ(document.blocks.size(), 1u);
  EXPECT_EQ(document.blocks[0].text, "Hi \xE4\xB8\xAD\xE6\x96\x87");
}

TEST(ExtractDocument, RejectsAnEmptyDocumentNamingIt) {
  const absl::StatusOr<ExtractedDocument> empty = ExtractDocument("", "empty.txt", {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(empty.status().message(), "empty.txt is empty")) << empty.status();

  const absl::StatusOr<ExtractedDocument> blank = ExtractDocument(" \n\t\n", "blank.md", {});
  EXPECT_EQ(blank.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(blank.status().message(), "blank.md has no text"));

  const absl::StatusOr<ExtractedDocument> scripts_only =
      ExtractDocument("<html><script>var x = 1;</script></html>", "app.html", {});
  EXPECT_EQ(scripts_only.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExtractDocument, RejectsBinaryContent) {
  const std::string png("\x89PNG\r\n\x1A\n\0\0\0\rIHDR\0\0\0\x10", 20);
  const absl::StatusOr<ExtractedDocument> image = ExtractDocument(png, "photo.txt", {});
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(image.status().message(), "photo.txt is not a text document"))
      << image.status();

  // No NUL byte, but control characters and ill-formed UTF-8 throughout.
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>(1 + (i * 37) % 255));
  const absl::StatusOr<ExtractedDocument> random = ExtractDocument(noise, "noise", {});
  EXPECT_EQ(random.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(random.status().message(), "are not text")) << random.status();
}

TEST(ExtractDocument, RejectsADocumentOverTheSizeLimit) {
  ExtractOptions options;
  options.max_bytes = 100;
  EXPECT_TRUE(ExtractDocument(std::string(100, 'a'), "fits.txt", options).ok());
  const absl::StatusOr<ExtractedDocument> large =
      ExtractDocument(std::string(101, 'a'), "large.txt", options);
  EXPECT_EQ(large.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(large.status().message(), "large.txt is larger than the limit"))
      << large.status();
}

TEST(ExtractFile, ReadsAFileAndTitlesItByName) {
  const TempFile file("release-notes.txt", "Version 2 is out.\n\nUpgrade soon.\n");
  const absl::StatusOr<ExtractedDocument> document = ExtractFile(file.path(), {});
  ASSERT_TRUE(document.ok()) << document.status();
  EXPECT_EQ(document->title, "release-notes");
  ASSERT_EQ(document->blocks.size(), 2u);
  EXPECT_EQ(document->blocks[1].text, "Upgrade soon.");
}

TEST(ExtractFile, RejectsAFileOverTheSizeLimitWithoutReadingIt) {
  const TempFile file("big.txt", std::string(5000, 'x'));
  ExtractOptions options;
  options.max_bytes = 4096;
  const absl::StatusOr<ExtractedDocument> document = ExtractFile(file.path(), options);
  EXPECT_EQ(document.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(document.status().message(), "(5000 bytes)")) << document.status();
}

TEST(ExtractFile, MapsUnreadablePathsToTheirCodes) {
  const std::string missing = std::string(::testing::TempDir()) + "/no-such-file.md";
  const absl::StatusOr<ExtractedDocument> not_found = ExtractFile(missing, {});
  EXPECT_EQ(not_found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(not_found.status().message(), missing));

  const absl::StatusOr<ExtractedDocument> directory = ExtractFile(::testing::TempDir(), {});
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(directory.status().message(), "is a directory"));
}

TEST(ExtractFile, ReportsPermissionDenied) {
  const TempFile file("private.txt", "secret");
  ASSERT_EQ(::chmod(file.path().c_str(), 0), 0);
  // Root reads any file, so as root the read is tried as "nobody" (the saved id restores root).
  const uid_t user = ::geteuid();
  constexpr uid_t kNobody = 65534;
  if (user == 0) {
    ASSERT_EQ(::seteuid(kNobody), 0);
  }
  const absl::StatusOr<ExtractedDocument> document = ExtractFile(file.path(), {});
  if (user == 0) {
    ASSERT_EQ(::seteuid(0), 0);
  }
  EXPECT_EQ(document.status().code(), absl::StatusCode::kPermissionDenied) << document.status();
}

}  // namespace
}  // namespace quarry::text
