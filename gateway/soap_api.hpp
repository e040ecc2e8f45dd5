// licgate's SOAP services, on the same HTTP server as the JSON API
// (docs/soap.md):
//
//   POST /soap/v1               a SOAP 1.1 (text/xml) or 1.2
//                               (application/soap+xml) call
//   GET  /soap/v1?wsdl          the WSDL, its address set to the one asked on
//   GET  /soap/v1?xsd=NAME      the schemas the WSDL imports
//
// The same endpoint takes the e-government gateway's synchronous
// SendMessage (mapping/shep.hpp): its serviceId names one of the operations
// below and its data carries that operation's element.
//
// Operations: GetLicence, FindLicences, GetChanges, SubmitLicenceEvent
// (mapping/schema/licgate-soap.xsd). A licence that is not in the register
// is an answer (found false); a request that cannot be answered, and an
// event the register rejects, is a fault with licgate's error code and a
// correlation id in its detail. The correlation
// id is the request's X-Correlation-Id when it has one, else made here, and
// goes back in the X-Correlation-Id header of every answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "adapters/http/server.hpp"
#include "config/config.hpp"
#include "gateway/intake_flow.hpp"
#include "mapping/shep.hpp"
#include "mapping/soap.hpp"
#include "registry/store.hpp"

namespace licgate::gateway {

inline constexpr std::string_view kSoapPath = "/soap/v1";

class SoapApi {
 public:
  // The store and the intake flow must outlive the API. `intake` null: no
  // SubmitLicenceEvent (a not-implemented fault). `shep` maps the
  // serviceIds of the e-government gateway's SendMessage onto operations.
  SoapApi(registry::Store& store, IntakeFlow* intake, config::ShepConfig shep = {});

  // Answers a request to kSoapPath. Blocks on the store. Thread-safe.
  adapters::http::Response handle(const adapters::http::Request& request);

 private:
  adapters::http::Response serveContract(const adapters::http::Request& request);
  adapters::http::Response call(const adapters::http::Request& request,
                                const std::string& correlation_id);
  registry::Result<std::string> answer(const mapping::SoapCall& call,
                                       const std::string& correlation_id);
  registry::Result<std::string> getLicence(const mapping::SoapCall& call);
  registry::Result<std::string> findLicences(const mapping::SoapCall& call);
  registry::Result<std::string> getChanges(const mapping::SoapCall& call);
  registry::Result<std::string> submitLicenceEvent(const mapping::SoapCall& call,
                                                   const std::string& correlation_id);
  std::string correlationIdOf(const adapters::http::Request& request);
  adapters::http::Response shepSendMessage(const mapping::SoapCall& call,
                                           const std::string& correlation_id);
  registry::Result<mapping::SoapCall> shepOperation(const mapping::ShepSyncRequest& request,
                                                    mapping::SoapVersion version);

  registry::Store& store_;
  IntakeFlow* intake_;
  const config::ShepConfig shep_;
  const std::string id_prefix_;  // random per process, so ids of two processes differ
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace licgate::gateway
