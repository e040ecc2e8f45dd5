// licgate's SOAP services, on the same HTTP server as the JSON API
// (docs/soap.md):
//
//   POST /soap/v1               a SOAP 1.1 (text/xml) or 1.2
//                               (application/soap+xml) call
//   GET  /soap/v1?wsdl          the WSDL, its address set to the one asked on
//   GET  /soap/v1?xsd=NAME      the schemas the WSDL imports
//
// The same endpoint takes the e-government gateway's channels
// (mapping/shep.hpp): the synchronous SendMessage, whose serviceId names one
// of the operations below and whose data carries that operation's element,
// and the asynchronous sendMessage and changeMassageStatusNotification,
// the gateway pushing to licgate as a receiving system.
//
// Operations: GetLicence, FindLicences, GetChanges, SubmitLicenceEvent;
// RequestConformity, SubmitConclusion, GetConformity, GetPendingConformity
// (docs/conformity.md) (mapping/schema/licgate-soap.xsd). A licence that is not in the register
// is an answer (found false); a request that cannot be answered, and an
// event the register rejects, is a fault with licgate's error code and a
// correlation id in its detail. The correlation
// id is the request's X-Correlation-Id when it has one, else made here, and
// goes back in the X-Correlation-Id header of every answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "adapters/http/server.hpp"
#include "adapters/redis/exchange_log.hpp"
#include "config/config.hpp"
#include "gateway/conformity_flow.hpp"
#include "gateway/intake_flow.hpp"
#include "gateway/shep_schemas.hpp"
#include "gateway/shep_sender.hpp"
#include "mapping/shep.hpp"
#include "mapping/soap.hpp"
#include "registry/store.hpp"

namespace licgate::gateway {

inline constexpr std::string_view kSoapPath = "/soap/v1";

// What the e-government gateway's channels need besides the register.
struct ShepParts {
  // Keeps the asynchronous channel's chains and outbox (Redis); null: that
  // channel answers not-implemented.
  adapters::redis::ExchangeLog* exchanges = nullptr;
  // Woken when a RESPONSE is queued; null: it finds it at its next poll.
  ShepSender* sender = nullptr;
  // The gateway's own schemas; null: messages are not validated against
  // them (licgate's readers still check what they read).
  const ShepSchemas* schemas = nullptr;
};

class SoapApi {
 public:
  // The store, the intake flow and every part must outlive the API.
  // `intake` null: no SubmitLicenceEvent (a not-implemented fault). `shep`
  // maps the serviceIds of the e-government gateway's channels onto
  // operations.
  // `conformity` null: the conformity operations answer not-implemented.
  SoapApi(registry::Store& store, IntakeFlow* intake, config::ShepConfig shep = {},
          ShepParts parts = {}, ConformityFlow* conformity = nullptr);

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
  // The conformity flow's operations (gateway/soap_conformity.cpp).
  registry::Result<std::string> requestConformity(const mapping::SoapCall& call);
  registry::Result<std::string> submitConclusion(const mapping::SoapCall& call);
  registry::Result<std::string> getConformity(const mapping::SoapCall& call);
  registry::Result<std::string> getPendingConformity(const mapping::SoapCall& call);
  registry::Result<ConformityFlow*> conformityFlow(const std::string& operation) const;
  std::string correlationIdOf(const adapters::http::Request& request);
  registry::Result<adapters::amqp::Verdict> decideEvent(const mapping::SoapCall& call,
                                                        const std::string& correlation_id);
  static registry::Status verdictError(const adapters::amqp::Verdict& verdict);

  // The e-government gateway's channels (this file's head); the
  // asynchronous channel's two operations are in gateway/shep_async.cpp.
  adapters::http::Response shepCall(const mapping::SoapCall& call,
                                    const std::string& correlation_id,
                                    const registry::Status& action_matches);
  registry::Result<std::string> shepAnswer(const mapping::SoapCall& call,
                                           const std::string& correlation_id,
                                           const std::string& now);
  registry::Result<std::string> shepSyncMessage(const mapping::SoapCall& call,
                                                const std::string& request_xml,
                                                const std::string& correlation_id,
                                                const std::string& now);
  registry::Result<std::string> shepAsyncMessage(const mapping::SoapCall& call,
                                                 const std::string& request_xml,
                                                 const std::string& correlation_id,
                                                 const std::string& now);
  registry::Result<std::string> shepAsyncRead(const mapping::SoapCall& call,
                                              const mapping::ShepAsyncMessage& message,
                                              const mapping::SoapCall& operation,
                                              const std::string& correlation_id,
                                              const std::string& now);
  registry::Result<std::string> shepStatusNotification(const mapping::SoapCall& call,
                                                       const std::string& request_xml,
                                                       const std::string& now);
  registry::Result<mapping::SoapCall> shepOperation(const std::string& service_id,
                                                    const std::string& sender_id,
                                                    const std::string& message_id,
                                                    const std::string& operation_xml,
                                                    mapping::SoapVersion version,
                                                    std::string_view channel_operation);

  registry::Store& store_;
  IntakeFlow* intake_;
  ConformityFlow* conformity_;
  const config::ShepConfig shep_;
  adapters::redis::ExchangeLog* exchanges_;
  ShepSender* sender_;
  const ShepSchemas* schemas_;
  const std::string id_prefix_;  // random per process, so ids of two processes differ
  // Looked up once: spdlog's registry takes a process-wide lock per look-up.
  const std::shared_ptr<spdlog::logger> log_;
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace licgate::gateway
