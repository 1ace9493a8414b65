#include "services/text/pdf_extractor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/text/document_extractor.h"

namespace quarry::text {
namespace {

// Writes a PDF 1.4 file with one Helvetica text stream per page and a correct cross-reference
// table, the way a minimal PDF writer would.
class PdfWriter {
 public:
  // Adds a page whose content stream is `content`.
  void AddPage(const std::string& content) { pages_.push_back(content); }
  void SetTitle(const std::string& title) { title_ = title; }
  // Marks the file as encrypted with the standard security handler (RC4, revision 2) under a
  // user password: its /U entry is not the one the empty password gives.
  void EncryptWithUnknownPassword() { encrypted_ = true; }

  std::string Write() const {
    // Objects: 1 catalog, 2 page tree, 3 font, 4 info, then a page and its stream per page,
    // then the encryption dictionary.
    std::vector<std::string> objects;
    std::string kids;
    for (size_t i = 0; i < pages_.size(); ++i) absl::StrAppend(&kids, 5 + 2 * i, " 0 R ");
    objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
    objects.push_back(
        absl::StrCat("<< /Type /Pages /Kids [", kids, "] /Count ", pages_.size(), " >>"));
    objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    objects.push_back(absl::StrCat("<< /Title (", title_, ") /Producer (test) >>"));
    for (size_t i = 0; i < pages_.size(); ++i) {
      objects.push_back(absl::StrCat(
          "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
          ">> >> /Contents ",
          6 + 2 * i, " 0 R >>"));
      objects.push_back(
          absl::StrCat("<< /Length ", pages_[i].size(), " >>\nstream\n", pages_[i], "\nendstream"));
    }
    const size_t encrypt_object = objects.size() + 1;
    if (encrypted_) {
      objects.push_back(absl::StrCat("<< /Filter /Standard /V 1 /R 2 /O <", std::string(64, 'A'),
                                     "> /U <", std::string(64, 'B'), "> /P -44 >>"));
    }

    std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
    std::vector<size_t> offsets;
    for (size_t i = 0; i < objects.size(); ++i) {
      offsets.push_back(pdf.size());
      absl::StrAppend(&pdf, i + 1, " 0 obj\n", objects[i], "\nendobj\n");
    }
    const size_t xref = pdf.size();
    absl::StrAppend(&pdf, "xref\n0 ", objects.size() + 1, "\n0000000000 65535 f \n");
    for (size_t offset : offsets)
      absl::StrAppend(&pdf, absl::StrFormat("%010d 00000 n \n", offset));
    absl::StrAppend(&pdf, "trailer\n<< /Size ", objects.size() + 1, " /Root 1 0 R /Info 4 0 R");
    if (encrypted_) {
      absl::StrAppend(&pdf, " /Encrypt ", encrypt_object, " 0 R /ID [<", std::string(32, 'C'),
                      "> <", std::string(32, 'C'), ">]");
    }
    absl::StrAppend(&pdf, " >>\nstartxref\n", xref, "\n%%EOF\n");
    return pdf;
  }

 private:
  std::vector<std::string> pages_;
  std::string title_ = "Quarry Test Manual";
  bool encrypted_ = false;
};

// Two lines of one paragraph 14 points apart, then a second paragraph 40 points lower.
constexpr char kFirstPage[] =
    "BT /F1 12 Tf 72 720 Td (Quarry keeps every chunk in RocksDB, which is the) Tj "
    "0 -14 Td (source of truth for the index.) Tj "
    "0 -40 Td (The index is rebuilt from it on start.) Tj ET";
constexpr char kSecondPage[] = "BT /F1 12 Tf 72 720 Td (Page two has one paragraph.) Tj ET";

PdfWriter TwoPageDocument() {
  PdfWriter writer;
  writer.AddPage(kFirstPage);
  writer.AddPage(kSecondPage);
  return writer;
}

TEST(PdfExtraction, ReadsTextPerPageAsParagraphs) {
  const absl::StatusOr<ExtractedDocument> document =
      ExtractDocument(TwoPageDocument().Write(), "manual.pdf", {});
  ASSERT_TRUE(document.ok()) << document.status();
  EXPECT_EQ(document->media_type, "application/pdf");
  EXPECT_EQ(document->title, "Quarry Test Manual");
  ASSERT_EQ(document->blocks.size(), 3u);
  EXPECT_EQ(document->blocks[0].text,
            "Quarry keeps every chunk in RocksDB, which is the source of truth for the index.");
  EXPECT_EQ(document->blocks[0].page, 1);
  EXPECT_EQ(document->blocks[1].text, "The index is rebuilt from it on start.");
  EXPECT_EQ(document->blocks[1].page, 1);
  EXPECT_EQ(document->blocks[2].text, "Page two has one paragraph.");
  EXPECT_EQ(document->blocks[2].page, 2);
  EXPECT_TRUE(document->blocks[2].heading_path.empty());
}

TEST(PdfExtraction, RecognisesAPdfByItsHeaderWhateverItsName) {
  PdfWriter writer = TwoPageDocument();
  writer.SetTitle("");
  const absl::StatusOr<ExtractedDocument> document =
      ExtractDocument(writer.Write(), "uploads/report", {});
  ASSERT_TRUE(document.ok()) << document.status();
  EXPECT_EQ(document->media_type, "application/pdf");
  EXPECT_EQ(document->title, "report");
}

TEST(PdfExtraction, RejectsATruncatedPdf) {
  const std::string pdf = TwoPageDocument().Write();
  const absl::StatusOr<ExtractedDocument> document =
      ExtractDocument(pdf.substr(0, pdf.size() / 2), "cut.pdf", {});
  EXPECT_EQ(document.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(document.status().message(), "cut.pdf is a truncated PDF"))
      << document.status();
}

TEST(PdfExtraction, RejectsADamagedPdf) {
  // Objects and cross-reference table overwritten, the header and end marker intact.
  std::string pdf = TwoPageDocument().Write();
  const size_t end = pdf.rfind("%%EOF");
  for (size_t i = 20; i < end; ++i) pdf[i] = static_cast<char>('!' + i % 90);
  const absl::StatusOr<ExtractedDocument> document = ExtractDocument(pdf, "broken.pdf", {});
  EXPECT_EQ(document.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(document.status().message(), "broken.pdf is a damaged PDF"))
      << document.status();
}

TEST(PdfExtraction, RejectsAnEncryptedPdf) {
  PdfWriter writer = TwoPageDocument();
  writer.EncryptWithUnknownPassword();
  const absl::StatusOr<ExtractedDocument> document =
      ExtractDocument(writer.Write(), "locked.pdf", {});
  EXPECT_EQ(document.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(document.status().message(),
                                "locked.pdf is an encrypted PDF that needs a password"))
      << document.status();
}

TEST(PdfExtraction, RejectsAPdfWithNoText) {
  PdfWriter writer;
  writer.AddPage("0 0 m 100 100 l S");  // a line, no text
  const absl::StatusOr<ExtractedDocument> document =
      ExtractDocument(writer.Write(), "scan.pdf", {});
  EXPECT_EQ(document.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(document.status().message(), "scan.pdf has no text"))
      << document.status();
}

}  // namespace
}  // namespace quarry::text
