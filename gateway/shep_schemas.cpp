// The e-government gateway's schemas (gateway/shep_schemas.hpp), on
// libxml2's XML Schema validator.
#include "gateway/shep_schemas.hpp"

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include <pugixml.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "mapping/xml_names.hpp"

namespace licgate::gateway {

namespace fs = std::filesystem;
using registry::ErrorCode;
using registry::makeError;
using registry::Result;

namespace {

// Dependencies first: the common types, then each channel's types, then
// their request and response types, then the channel interfaces.
int namespaceRank(const std::string& ns) {
  if (ns.ends_with("/common/v10/types")) {
    return 0;
  }
  if (ns.ends_with("/v10/types")) {
    return 1;
  }
  return ns.find("/v10/types/") != std::string::npos ? 2 : 3;
}

// libxml2's structured errors, kept as text; the first few are enough to
// say what is wrong.
struct Messages {
  std::vector<std::string> texts;

  static void collect(void* self, xmlErrorPtr error) {
    auto* messages = static_cast<Messages*>(self);
    if (error == nullptr || error->level < XML_ERR_ERROR || messages->texts.size() >= 3) {
      return;
    }
    std::string text = error->message != nullptr ? error->message : "no reason given";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
      text.pop_back();
    }
    messages->texts.push_back(std::move(text));
  }

  std::string joined() const {
    std::string all;
    for (const std::string& text : texts) {
      all += (all.empty() ? "" : "; ") + text;
    }
    return all.empty() ? "libxml2 gave no reason" : all;
  }
};

// A directory of its own under the system's temporary one, removed with
// what it holds when this ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device device;
    path_ = fs::temp_directory_path() /
            ("licgate-shep-" + std::to_string(device()) + "-" + std::to_string(device()));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The Body element with the content and attributes of every data element
// left out (the header's reason).
Result<std::string> withoutData(std::string_view element_xml) {
  pugi::xml_document document;
  if (!document.load_buffer(element_xml.data(), element_xml.size(), pugi::parse_default,
                            pugi::encoding_utf8)) {
    return makeError(ErrorCode::kMalformed, "the message is not XML");
  }
  std::vector<pugi::xml_node> data;
  for (const pugi::xpath_node& found : document.document_element().select_nodes(".//*")) {
    if (mapping::localName(found.node().name()) == "data") {
      data.push_back(found.node());
    }
  }
  for (pugi::xml_node node : data) {
    while (node.first_child()) {
      node.remove_child(node.first_child());
    }
    while (node.first_attribute()) {
      node.remove_attribute(node.first_attribute());
    }
  }
  std::ostringstream out;
  document.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return out.str();
}

}  // namespace

Result<std::string> writeShepWrapper(const fs::path& schemas, const fs::path& into) {
  std::map<std::string, std::vector<std::string>> by_namespace;
  std::error_code error;
  if (!fs::is_directory(schemas, error)) {
    return makeError(ErrorCode::kInvalidField, "the e-government gateway's schemas: " +
                                                   schemas.string() + " is not a directory");
  }
  for (const auto& entry : fs::recursive_directory_iterator(schemas)) {
    if (entry.path().extension() != ".xsd") {
      continue;
    }
    pugi::xml_document schema;
    if (schema.load_file(entry.path().c_str())) {
      std::string ns = schema.document_element().attribute("targetNamespace").value();
      by_namespace[ns].push_back(fs::canonical(entry.path()).string());
    }
  }
  if (by_namespace.empty()) {
    return makeError(ErrorCode::kInvalidField, "the e-government gateway's schemas: " +
                                                   schemas.string() + " holds no .xsd file");
  }
  std::vector<std::string> order;
  for (const auto& [ns, files] : by_namespace) {
    order.push_back(ns);
  }
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return namespaceRank(a) < namespaceRank(b);
  });

  std::string top = "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    std::vector<std::string> files = by_namespace[order[i]];
    std::sort(files.begin(), files.end());
    const fs::path part = into / ("namespace-" + std::to_string(i) + ".xsd");
    std::ofstream out(part);
    out << "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"" << order[i]
        << "\">\n";
    for (const std::string& file : files) {
      out << "  <xs:include schemaLocation=\"" << file << "\"/>\n";
    }
    out << "</xs:schema>\n";
    top +=
        "  <xs:import namespace=\"" + order[i] + "\" schemaLocation=\"" + part.string() + "\"/>\n";
  }
  top += "</xs:schema>\n";
  const fs::path wrapper = into / "shep.xsd";
  std::ofstream(wrapper) << top;
  return wrapper.string();
}

struct ShepSchemas::Compiled {
  xmlSchemaPtr schema = nullptr;
  ~Compiled() {
    if (schema != nullptr) {
      xmlSchemaFree(schema);
    }
  }
};

ShepSchemas::ShepSchemas(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}
ShepSchemas::~ShepSchemas() = default;

Result<std::unique_ptr<ShepSchemas>> ShepSchemas::load(const fs::path& dir) {
  ScratchDir scratch;
  auto wrapper = writeShepWrapper(dir, scratch.path());
  if (!wrapper.ok()) {
    return wrapper.takeError();
  }
  Messages messages;
  xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(wrapper->c_str());
  xmlSchemaSetParserStructuredErrors(parser, &Messages::collect, &messages);
  auto compiled = std::make_unique<Compiled>();
  compiled->schema = xmlSchemaParse(parser);
  xmlSchemaFreeParserCtxt(parser);
  if (compiled->schema == nullptr || !messages.texts.empty()) {
    return makeError(ErrorCode::kMalformed, "the e-government gateway's schemas in " +
                                                dir.string() +
                                                " do not compile: " + messages.joined());
  }
  // A directory of other schemas compiles too, and would then blame every
  // message on its sender: each operation licgate validates must be
  // declared.
  for (const auto& [ns, element] : {
           std::pair{"http://bip.bee.kz/SyncChannel/v10/Types", "SendMessage"},
           std::pair{"http://bip.bee.kz/AsyncChannel/v10/Types", "sendMessage"},
           std::pair{"http://bip.bee.kz/AsyncChannel/v10/Types/Client",
                     "changeMassageStatusNotification"},
       }) {
    const std::string stub = std::string("<a:") + element + " xmlns:a=\"" + ns + "\"/>";
    xmlDocPtr document = xmlReadMemory(stub.data(), static_cast<int>(stub.size()), nullptr, "UTF-8",
                                       XML_PARSE_NONET);
    Messages found;
    xmlSchemaValidCtxtPtr validator = xmlSchemaNewValidCtxt(compiled->schema);
    xmlSchemaSetValidStructuredErrors(validator, &Messages::collect, &found);
    xmlSchemaValidateDoc(validator, document);
    xmlSchemaFreeValidCtxt(validator);
    xmlFreeDoc(document);
    if (found.joined().find("No matching global declaration") != std::string::npos) {
      return makeError(ErrorCode::kInvalidField,
                       "the e-government gateway's schemas in " + dir.string() +
                           " do not declare " + element + " of \"" + ns +
                           "\": shep.schema_dir must hold the gateway's interface files "
                           "(SyncChannel, AsyncChannel, common)");
    }
  }
  return std::unique_ptr<ShepSchemas>(new ShepSchemas(std::move(compiled)));
}

registry::Status ShepSchemas::validate(std::string_view element_xml) const {
  auto document_text = withoutData(element_xml);
  if (!document_text.ok()) {
    return document_text.takeError();
  }
  xmlDocPtr document =
      xmlReadMemory(document_text->data(), static_cast<int>(document_text->size()), nullptr,
                    "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (document == nullptr) {
    return makeError(ErrorCode::kMalformed, "the message is not XML");
  }
  Messages messages;
  xmlSchemaValidCtxtPtr validator = xmlSchemaNewValidCtxt(compiled_->schema);
  xmlSchemaSetValidStructuredErrors(validator, &Messages::collect, &messages);
  const int verdict = xmlSchemaValidateDoc(validator, document);
  xmlSchemaFreeValidCtxt(validator);
  xmlFreeDoc(document);
  if (verdict != 0) {
    return makeError(
        ErrorCode::kInvalidField,
        "the message does not follow the e-government gateway's schema: " + messages.joined());
  }
  return {};
}

}  // namespace licgate::gateway
