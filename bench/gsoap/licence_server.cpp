// The read benchmark's reference server (docs/benchmarks.md): licgate's
// GetLicence as gSOAP generates it from licgate's own WSDL (wsdl2h, then
// soapcpp2 -S; bench/CMakeLists.txt runs them at build time), answering
// from the same SQLite register file, opened read-only.
//
// Usage: gsoap_licence_server REGISTER PORT_FILE
// Listens on 127.0.0.1, any free port, and writes that port to PORT_FILE
// once it accepts connections. Runs until killed.
//
// Threads: the usual gSOAP stand-alone multi-threaded server. The main
// thread accepts; each accepted connection gets a copy of the context
// (soap_copy) and a thread of its own, which serves that connection's
// keep-alive calls one after the other and opens its own read-only
// connection to the register, so no two threads share a SQLite
// connection. gSOAP's I/O is blocking, so a thread per open connection is
// what lets it keep many keep-alive connections served at once.
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "LicgateSoap11.nsmap"
#include "soapLicgateSoap11Service.h"

namespace {

// Calls per keep-alive connection before gSOAP closes it. gSOAP's default
// is 100; licgate sets no such limit, so neither does this server.
constexpr int kMaxKeepAlive = 1'000'000;

// Seconds a connection may be idle or slow, as licgate's HTTP timeouts.
constexpr int kRecvTimeoutS = 10;
constexpr int kSendTimeoutS = 30;

// Column text as a string; NULL is empty (the caller checks NULL itself
// where it matters).
std::string columnText(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(text),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement, column)));
}

// One read-only connection to the register with its statements prepared
// once, as licgate's store does (registry/sqlite_connection.hpp).
class RegisterReader {
 public:
  explicit RegisterReader(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      return;
    }
    sqlite3_busy_timeout(db_, 5000);
    prepare("BEGIN", &begin_);
    prepare("COMMIT", &commit_);
    prepare(
        "SELECT number, kind, licensor, activity_code, holder_scheme, holder_id, holder_name, "
        "holder_address, holder_legal_form, holder_country, issued_on, valid_from, valid_until, "
        "status, revision, source_version, suspended_until FROM licences WHERE number = ?1",
        &licence_);
    prepare(
        "SELECT number, name, address, status, issued_on FROM annexes "
        "WHERE licence_number = ?1 ORDER BY number",
        &annexes_);
  }

  ~RegisterReader() {
    for (sqlite3_stmt* statement : {begin_, commit_, licence_, annexes_}) {
      sqlite3_finalize(statement);
    }
    sqlite3_close(db_);
  }

  RegisterReader(const RegisterReader&) = delete;
  RegisterReader& operator=(const RegisterReader&) = delete;

  bool ready() const { return ok_ && annexes_ != nullptr; }

  // Fills `response` with the licence and its annexes, read in one read
  // transaction as licgate reads them. SOAP_OK, or a Server fault.
  int getLicence(struct soap* soap, const std::string& number, _lg__GetLicenceResponse& response) {
    if (!ready()) {
      return soap_receiver_fault(soap, "the register cannot be read", nullptr);
    }
    if (sqlite3_step(begin_) != SQLITE_DONE) {
      sqlite3_reset(begin_);
      return soap_receiver_fault(soap, sqlite3_errmsg(db_), nullptr);
    }
    sqlite3_reset(begin_);
    int status = readLicence(soap, number, response);
    sqlite3_step(commit_);
    sqlite3_reset(commit_);
    return status;
  }

 private:
  void prepare(const char* sql, sqlite3_stmt** statement) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, statement, nullptr) !=
        SQLITE_OK) {
      std::fprintf(stderr, "gsoap_licence_server: %s: %s\n", sql, sqlite3_errmsg(db_));
      ok_ = false;
    }
  }

  int readLicence(struct soap* soap, const std::string& number, _lg__GetLicenceResponse& response) {
    sqlite3_bind_text(licence_, 1, number.data(), static_cast<int>(number.size()), SQLITE_STATIC);
    int rc = sqlite3_step(licence_);
    int status = SOAP_OK;
    if (rc == SQLITE_ROW) {
      response.found = true;
      response.licence = soap_new_lg__Licence(soap);
      status = fillLicence(soap, *response.licence);
      if (status == SOAP_OK) {
        status = readAnnexes(soap, number, *response.licence);
      }
    } else if (rc == SQLITE_DONE) {
      response.found = false;
    } else {
      status = soap_receiver_fault(soap, sqlite3_errmsg(db_), nullptr);
    }
    sqlite3_reset(licence_);
    sqlite3_clear_bindings(licence_);
    return status;
  }

  // The columns of the licence row, in kLicenceColumns' order.
  int fillLicence(struct soap* soap, lg__Licence& licence) {
    sqlite3_stmt* row = licence_;
    licence.number = columnText(row, 0);
    licence.licensor = columnText(row, 2);
    licence.activityCode = columnText(row, 3);
    licence.issuedOn = columnText(row, 10);
    licence.validFrom = columnText(row, 11);
    licence.validUntil = optionalText(soap, row, 12);
    licence.revision = columnText(row, 14);
    licence.suspendedUntil = optionalText(soap, row, 16);
    std::string source_version = columnText(row, 15);
    if (!source_version.empty()) {
      licence.sourceVersion = soap_new_std__string(soap);
      *licence.sourceVersion = source_version;
    }
    if (soap_s2le__NumberKind(soap, columnText(row, 1).c_str(), &licence.kind) != SOAP_OK ||
        soap_s2le__Status(soap, columnText(row, 13).c_str(), &licence.status) != SOAP_OK) {
      return soap_receiver_fault(soap, "a licence row holds an unknown kind or status", nullptr);
    }
    licence.holder = soap_new_le__Holder(soap);
    le__Holder& holder = *licence.holder;
    if (sqlite3_column_type(row, 4) != SQLITE_NULL) {
      holder.idScheme = soap_new_le__IdScheme(soap);
      if (soap_s2le__IdScheme(soap, columnText(row, 4).c_str(), holder.idScheme) != SOAP_OK) {
        return soap_receiver_fault(soap, "a licence row holds an unknown holder scheme", nullptr);
      }
      holder.id = optionalText(soap, row, 5);
    }
    holder.name = nonEmptyText(soap, row, 6);
    holder.address = nonEmptyText(soap, row, 7);
    holder.legalForm = nonEmptyText(soap, row, 8);
    holder.country = nonEmptyText(soap, row, 9);
    return SOAP_OK;
  }

  int readAnnexes(struct soap* soap, const std::string& number, lg__Licence& licence) {
    sqlite3_bind_text(annexes_, 1, number.data(), static_cast<int>(number.size()), SQLITE_STATIC);
    int status = SOAP_OK;
    int rc = SQLITE_ROW;
    while (status == SOAP_OK && (rc = sqlite3_step(annexes_)) == SQLITE_ROW) {
      lg__Annex* annex = soap_new_lg__Annex(soap);
      annex->number = columnText(annexes_, 0);
      annex->name = columnText(annexes_, 1);
      annex->address = columnText(annexes_, 2);
      annex->issuedOn = columnText(annexes_, 4);
      if (soap_s2le__Status(soap, columnText(annexes_, 3).c_str(), &annex->status) != SOAP_OK) {
        status = soap_receiver_fault(soap, "an annex row holds an unknown status", nullptr);
      }
      licence.annex.push_back(annex);
    }
    if (status == SOAP_OK && rc != SQLITE_DONE) {
      status = soap_receiver_fault(soap, sqlite3_errmsg(db_), nullptr);
    }
    sqlite3_reset(annexes_);
    sqlite3_clear_bindings(annexes_);
    return status;
  }

  static std::string* optionalText(struct soap* soap, sqlite3_stmt* row, int column) {
    if (sqlite3_column_type(row, column) == SQLITE_NULL) {
      return nullptr;
    }
    std::string* text = soap_new_std__string(soap);
    *text = columnText(row, column);
    return text;
  }

  // licgate leaves out a holder's empty fields (mapping/licence_xml.cpp).
  static std::string* nonEmptyText(struct soap* soap, sqlite3_stmt* row, int column) {
    std::string value = columnText(row, column);
    if (value.empty()) {
      return nullptr;
    }
    std::string* text = soap_new_std__string(soap);
    *text = std::move(value);
    return text;
  }

  sqlite3* db_ = nullptr;
  bool ok_ = true;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* licence_ = nullptr;
  sqlite3_stmt* annexes_ = nullptr;
};

// The generated service with GetLicence implemented; the other operations
// answer SOAP_NO_METHOD (WITH_DEFAULT_VIRTUAL).
class LicenceService : public LicgateSoap11Service {
 public:
  LicenceService(struct soap* context, RegisterReader& reader)
      : LicgateSoap11Service(context), reader_(reader) {}

  int GetLicence(_lg__GetLicence* request, _lg__GetLicenceResponse& response) override {
    if (request == nullptr || request->number.empty()) {
      return soap_senderfault("GetLicence: <number> is missing", nullptr);
    }
    return reader_.getLicence(soap, request->number, response);
  }

 private:
  RegisterReader& reader_;
};

// One connection's thread: its calls, one after the other, until the
// client closes or a call fails; then the context is freed.
void serveConnection(struct soap* context, std::string register_path) {
  {
    RegisterReader reader(register_path);
    LicenceService service(context, reader);
    service.serve();
    service.destroy();
  }
  soap_free(context);
}

bool writePort(const std::string& path, int port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << "\n";
    if (!out) {
      return false;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  return !error;
}

int boundPort(SOAP_SOCKET socket) {
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  if (getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return -1;
  }
  return ntohs(address.sin_port);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: gsoap_licence_server REGISTER PORT_FILE\n");
    return 2;
  }
  const std::string register_path = argv[1];
  // A client that goes away mid-answer must end its connection, not the server.
  std::signal(SIGPIPE, SIG_IGN);
  {
    RegisterReader probe(register_path);
    if (!probe.ready()) {
      std::fprintf(stderr, "gsoap_licence_server: cannot read the register %s\n", argv[1]);
      return 1;
    }
  }

  // Strings as the UTF-8 they are stored in, not narrowed to Latin-1.
  struct soap* master = soap_new1(SOAP_IO_KEEPALIVE | SOAP_C_UTFSTRING);
  soap_set_namespaces(master, namespaces);
  master->bind_flags = SO_REUSEADDR;
  master->max_keep_alive = kMaxKeepAlive;
  master->recv_timeout = kRecvTimeoutS;
  master->send_timeout = kSendTimeoutS;
  if (!soap_valid_socket(soap_bind(master, "127.0.0.1", 0, 128))) {
    soap_print_fault(master, stderr);
    return 1;
  }
  if (!writePort(argv[2], boundPort(master->master))) {
    std::fprintf(stderr, "gsoap_licence_server: cannot write %s\n", argv[2]);
    return 1;
  }

  while (true) {
    if (!soap_valid_socket(soap_accept(master))) {
      soap_print_fault(master, stderr);
      continue;
    }
    struct soap* copy = soap_copy(master);
    if (copy == nullptr) {
      soap_force_closesock(master);
      continue;
    }
    std::thread(serveConnection, copy, register_path).detach();
  }
}
