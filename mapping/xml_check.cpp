// The well-formedness check (mapping/xml_check.hpp).
#include "mapping/xml_check.hpp"

#include <libxml/parser.h>

#include <memory>
#include <string>

namespace licgate::mapping {

namespace {

// libxml2 sets its global tables up on first use, which is not safe from
// several threads at once (its xmlInitParser documentation): done here,
// while the program starts and has one thread.
const bool kParserReady = [] {
  xmlInitParser();
  return true;
}();

struct ContextFree {
  void operator()(xmlParserCtxt* context) const { xmlFreeParserCtxt(context); }
};

struct DocumentFree {
  void operator()(xmlDoc* document) const { xmlFreeDoc(document); }
};

// A context per thread: making one costs more than parsing a small
// envelope, and a context serves one parse at a time.
xmlParserCtxt* threadContext() {
  thread_local std::unique_ptr<xmlParserCtxt, ContextFree> context(xmlNewParserCtxt());
  return context.get();
}

// libxml2's messages end with a new line.
std::string reasonOf(const xmlError* error) {
  std::string reason = error != nullptr && error->message != nullptr ? error->message : "";
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
    reason.pop_back();
  }
  return reason.empty() ? "libxml2 gave no reason" : reason;
}

}  // namespace

registry::Status checkWellFormed(std::string_view utf8, std::string_view what) {
  static_cast<void>(kParserReady);
  // libxml2 would read a document type declaration's internal subset, and
  // its entity declarations with it; licgate reads none, so it refuses the
  // document before libxml2 sees it. The search also finds the words in a
  // comment or CDATA section, which no sender of licgate's has cause to
  // write.
  if (utf8.find("<!DOCTYPE") != std::string_view::npos) {
    return registry::makeError(registry::ErrorCode::kMalformed,
                               std::string(what) +
                                   " has a document type declaration (<!DOCTYPE), which licgate "
                                   "does not read: no DTD is loaded and no entity expanded");
  }
  xmlParserCtxt* context = threadContext();
  if (context == nullptr) {
    return registry::makeError(registry::ErrorCode::kInternal,
                               "libxml2 could not make a parser context");
  }
  // NOERROR and NOWARNING keep libxml2 from printing to stderr; the error
  // is read from the context instead. NONET: no external resource is ever
  // fetched, whatever the document names.
  constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  std::unique_ptr<xmlDoc, DocumentFree> document(xmlCtxtReadMemory(
      context, utf8.data(), static_cast<int>(utf8.size()), nullptr, "UTF-8", kOptions));
  if (document) {
    return {};
  }
  const xmlError* error = xmlCtxtGetLastError(context);
  std::string where;
  if (error != nullptr && error->line > 0) {
    where =
        " (line " + std::to_string(error->line) + ", column " + std::to_string(error->int2) + ")";
  }
  return registry::makeError(
      registry::ErrorCode::kMalformed,
      std::string(what) + " is not well-formed XML" + where + ": " + reasonOf(error));
}

}  // namespace licgate::mapping
