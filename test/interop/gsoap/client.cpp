// Calls every operation of licgate's SOAP services through a client that
// gSOAP generated from licgate's WSDL (wsdl2h, soapcpp2; test/CMakeLists.txt
// runs them at build time): the test of the WSDL and the answers against a
// second SOAP stack that is not licgate's.
//
// Usage: gsoap_client URL LICENCE_NUMBER OUTPUT
// Writes one "name=value" line per thing observed to OUTPUT, and suspends
// the licence through SubmitLicenceEvent. Exits 1 when a call that should
// succeed fails (gSOAP's fault is printed on stderr).
#include <fstream>
#include <iostream>
#include <string>

#include "LicgateSoap11.nsmap"
#include "soapLicgateSoap11Proxy.h"

namespace {

bool failed(LicgateSoap11Proxy& proxy, int code, const char* call) {
  if (code == SOAP_OK) {
    return false;
  }
  std::cerr << call << ": ";
  proxy.soap_stream_fault(std::cerr);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: gsoap_client URL LICENCE_NUMBER OUTPUT\n";
    return 2;
  }
  LicgateSoap11Proxy proxy(argv[1]);
  // Strings as the UTF-8 they arrive in, not narrowed to Latin-1.
  soap_set_mode(proxy.soap, SOAP_C_UTFSTRING);
  std::ofstream out(argv[3]);

  _lg__GetLicence get;
  get.number = argv[2];
  _lg__GetLicenceResponse licence;
  if (failed(proxy, proxy.GetLicence(&get, licence), "GetLicence")) {
    return 1;
  }
  out << "getLicence.found=" << (licence.found ? "true" : "false") << "\n";
  if (licence.licence != nullptr && licence.licence->holder != nullptr &&
      licence.licence->holder->name != nullptr) {
    out << "getLicence.holder=" << *licence.licence->holder->name << "\n";
  }

  _lg__GetLicence unknown;
  unknown.number = "99999999";
  _lg__GetLicenceResponse none;
  if (failed(proxy, proxy.GetLicence(&unknown, none), "GetLicence")) {
    return 1;
  }
  out << "getUnknown.found=" << (none.found ? "true" : "false") << "\n";

  _lg__FindLicences find;
  le__Status active = le__Status__active;
  int two = 2;
  find.status = &active;
  find.limit = &two;
  _lg__FindLicencesResponse found;
  if (failed(proxy, proxy.FindLicences(&find, found), "FindLicences")) {
    return 1;
  }
  out << "findLicences.count=" << found.licence.size() << "\n";

  _lg__GetChanges changes;
  int one = 1;
  changes.after = 0;
  changes.limit = &one;
  _lg__GetChangesResponse journal;
  if (failed(proxy, proxy.GetChanges(&changes, journal), "GetChanges")) {
    return 1;
  }
  out << "getChanges.count=" << journal.change.size() << "\n";
  if (!journal.change.empty() && journal.change[0]->le__licenceEvent != nullptr) {
    out << "getChanges.licensor=" << journal.change[0]->le__licenceEvent->licensor << "\n";
  }

  le__LicenceEvent event;
  event.type = le__EventType__suspend;
  event.licensor = "CZ-ERU";
  event.occurredOn = "2026-02-01";
  std::string number = argv[2];
  std::string reason = "inspection";
  event.licenceNumber = &number;
  event.reason = &reason;
  _lg__SubmitLicenceEvent submit;
  submit.system = "eru-export";
  submit.messageId = "gsoap-1";
  submit.le__licenceEvent = &event;
  _lg__SubmitLicenceEventResponse submitted;
  if (failed(proxy, proxy.SubmitLicenceEvent(&submit, submitted), "SubmitLicenceEvent")) {
    return 1;
  }
  out << "submit.applied=" << (submitted.outcome == lg__Outcome__applied ? "true" : "false")
      << "\n";

  _lg__FindLicences bad;
  int zero = 0;
  bad.limit = &zero;
  _lg__FindLicencesResponse refused;
  int code = proxy.FindLicences(&bad, refused);
  const char* fault_text = proxy.soap_fault_string();
  out << "badLimit.fault=" << (code == SOAP_FAULT ? "true" : "false") << "\n";
  out << "badLimit.text=" << (fault_text != nullptr ? fault_text : "") << "\n";
  proxy.destroy();
  return 0;
}
