// The body simulator's AMQP messages (gateway/body_simulator_proton.hpp).
#include "gateway/body_simulator_proton.hpp"

#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/message_id.hpp>

#include "adapters/amqp/proton_access.hpp"
#include "mapping/conformity.hpp"

namespace licgate::gateway::sim {

using adapters::amqp::protonC;

// Proton C++ 0.37 has no call for a rejection that carries an error
// condition (AMQP 1.0 section 3.4.2), so the C object is set directly.
void settleDelivery(proton::delivery& delivery, const char* condition,
                    const std::string& description) {
  if (delivery.settled()) {
    delivery.settle();
    return;
  }
  if (condition == nullptr) {
    delivery.accept();
    return;
  }
  pn_delivery_t* raw = protonC(delivery);
  pn_condition_t* error = pn_disposition_condition(pn_delivery_local(raw));
  pn_condition_set_name(error, condition);
  pn_condition_set_description(error, description.c_str());
  pn_delivery_update(raw, PN_REJECTED);
  pn_delivery_settle(raw);
}

std::string bodyBytes(const proton::message& message) {
  const proton::value& body = message.body();
  if (body.type() == proton::BINARY) {
    const auto binary = proton::get<proton::binary>(body);
    return std::string(binary.begin(), binary.end());
  }
  if (body.type() == proton::STRING) {
    return proton::get<std::string>(body);
  }
  return {};
}

proton::message conclusionMessage(const registry::Conclusion& conclusion) {
  proton::message message;
  message.id(proton::message_id("conclusion-" + conclusion.query_id));
  message.subject("conformity-conclusion");
  message.content_type("application/json");
  message.properties().put("system", conclusion.body);
  const std::string json = mapping::writeConclusionJson(conclusion);
  // inferred: the bytes travel as a data section (AMQP 1.0 section 3.2.6).
  message.inferred(true);
  message.body(proton::binary(json.begin(), json.end()));
  return message;
}

std::string rejectionText(const proton::tracker& tracker) {
  pn_condition_t* error = pn_disposition_condition(pn_delivery_remote(protonC(tracker)));
  if (!pn_condition_is_set(error)) {
    return {};
  }
  const char* description = pn_condition_get_description(error);
  return std::string(pn_condition_get_name(error)) + ": " + (description ? description : "");
}

}  // namespace licgate::gateway::sim
